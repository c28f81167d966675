import type { IstioProfile } from '../../config/schema.ts';
import type { DriftFinding } from '../istio/drift.ts';
import { hostOf, type PodFacts, selects } from '../istio/facts.ts';
import { reasonFor, sha256 } from './plan.ts';

/**
 * The second step of a repair, as pure data: Istio 1.0 bakes the control-plane addresses into each pod's
 * istio-proxy arguments at injection, so pods injected before the repair keep the old ones until they are
 * replaced. This plans a rolling restart of the Deployments owning such pods.
 */

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export interface DeploymentFacts {
  namespace: string;
  name: string;
  resourceVersion: string;
  /** spec.selector.matchLabels: a pod is the Deployment's only if these select it. */
  matchLabels: Record<string, string>;
}

export interface StaleAddress {
  /** e.g. "istio-proxy --discoveryAddress". */
  field: string;
  value: string;
  reason: string;
}

export interface StalePod {
  name: string;
  addresses: StaleAddress[];
}

export interface RestartTarget {
  namespace: string;
  name: string;
  /** The Deployment's resourceVersion when planned: the restart patch names it. */
  resourceVersion: string;
  pods: StalePod[];
}

export interface RestartPlan {
  remote: string;
  primary: string;
  /** In the order they are restarted, one at a time. */
  targets: RestartTarget[];
  /** Pods a Deployment restart does not reach, or that restarting would not fix, and why. */
  left: { pod: string; why: string }[];
  diff: string;
  hash: string;
}

export interface RestartInput {
  remote: string;
  primary: string;
  profile: IstioProfile;
  /** The drift findings of injected pods (`Pod ns/name`). */
  pods: readonly DriftFinding[];
  workloads: readonly PodFacts[];
  deployments: readonly DeploymentFacts[];
  /**
   * Components whose address in the remote's configuration still drifts: a pod restarted now would be
   * injected with that same old address, so its restart waits for the repair.
   */
  unrepaired: ReadonlySet<string>;
}

const podRef = (f: DriftFinding) => f.object.slice('Pod '.length);

function targetDiff(remote: string, t: RestartTarget): string {
  const lines = [
    `--- live Deployment ${t.namespace}/${t.name} on ${remote} (resourceVersion ${t.resourceVersion})`,
    '+++ rolling restart',
  ];
  for (const pod of t.pods)
    for (const a of pod.addresses) lines.push(`@@ pod ${pod.name} · ${a.field} ${a.value} · ${a.reason}`);
  lines.push(`+  spec.template.metadata.annotations["${RESTARTED_AT}"]: (the time of the restart)`);
  return lines.join('\n');
}

export function makeRestartPlan(input: RestartInput): RestartPlan {
  const { remote, primary, profile } = input;
  const left: RestartPlan['left'] = [];
  const byKey = new Map<string, RestartTarget>();
  const facts = new Map(input.workloads.map((p) => [`${p.state.namespace}/${p.state.name}`, p]));
  const byPod = new Map<string, DriftFinding[]>();
  for (const f of input.pods) byPod.set(podRef(f), [...(byPod.get(podRef(f)) ?? []), f]);

  for (const [ref, findings] of byPod) {
    const blocked = findings.find((f) => f.suggested === undefined || input.unrepaired.has(f.component));
    if (blocked) {
      left.push({
        pod: ref,
        why:
          blocked.suggested === undefined
            ? `${blocked.component} has no running pod on ${primary}, so a new pod would not get a live address either`
            : `the ${blocked.component} address in the configuration on ${remote} is not repaired yet, so a new pod would get the old one again`,
      });
      continue;
    }
    const pod = facts.get(ref);
    const [namespace, name] = ref.split('/') as [string, string];
    const owner = pod
      ? input.deployments.find(
          (d) => d.namespace === namespace && d.name === pod.workload && selects(d.matchLabels, pod.labels),
        )
      : undefined;
    if (!owner) {
      left.push({
        pod: ref,
        why: pod
          ? `it is not run by a Deployment (owner ${pod.workload || 'none'}); delete it so it is re-created, if that is safe`
          : 'it was not found when the restart was planned',
      });
      continue;
    }
    const key = `${owner.namespace}/${owner.name}`;
    const target = byKey.get(key) ?? {
      namespace: owner.namespace,
      name: owner.name,
      resourceVersion: owner.resourceVersion,
      pods: [],
    };
    target.pods.push({
      name,
      addresses: findings.map((f) => ({
        field: f.field,
        value: f.configured,
        reason: reasonFor(f, profile, hostOf(f.suggested!)),
      })),
    });
    byKey.set(key, target);
  }
  const targets = [...byKey.values()].sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  );
  for (const t of targets) t.pods.sort((a, b) => a.name.localeCompare(b.name));
  const diff = targets.map((t) => targetDiff(remote, t)).join('\n');
  return { remote, primary, targets, left, diff, hash: sha256(diff) };
}

/** Why a fresh restart plan no longer matches an approved one, in one line naming what moved. */
export function restartPlanChanges(
  approved: readonly RestartTarget[],
  fresh: readonly RestartTarget[],
): string {
  const key = (t: RestartTarget) => `${t.namespace}/${t.name}`;
  const now = new Map(fresh.map((t) => [key(t), t]));
  const out: string[] = [];
  for (const t of approved) {
    const f = now.get(key(t));
    if (!f) out.push(`${key(t)} needs no restart any more`);
    else if (f.resourceVersion !== t.resourceVersion)
      out.push(`Deployment ${key(t)} changed (resourceVersion ${t.resourceVersion} → ${f.resourceVersion})`);
    else if (JSON.stringify(f.pods) !== JSON.stringify(t.pods)) out.push(`the pods of ${key(t)} changed`);
  }
  const planned = new Set(approved.map(key));
  for (const t of fresh) if (!planned.has(key(t))) out.push(`${key(t)} now needs a restart too`);
  return out.length > 0 ? out.join('; ') : 'the plan computed from the live state is different';
}
