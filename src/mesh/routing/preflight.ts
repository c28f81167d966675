import { selectorText } from '../../config/selector.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { shortHost } from './describe.ts';
import { type DestinationRuleSubsets, listDestinationRules } from './live.ts';
import type { Change } from './plan.ts';
import type { Destination, VirtualServiceSpec } from './types.ts';

/**
 * Before anyone is asked to approve: does every destination the change sends traffic to exist and have ready
 * pods somewhere? A subset that lives only on a remote (bookinfo's reviews v3 on iks) also needs that remote
 * answering and its VPN tunnel up, or the change turns traffic into 503s.
 */

export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface PreflightCheck {
  level: CheckLevel;
  text: string;
}

/** One host + subset the change routes to, with the host resolved to its Service's namespace and name. */
export interface Target {
  host: string;
  subset?: string;
  service: { namespace: string; name: string };
}

export type TunnelState = { state: 'up' | 'down' | 'unknown'; reason?: string };

/** How the state of the tunnel to a remote is found; provided by the VPN check. */
export type TunnelProbe = (remote: Cluster) => Promise<TunnelState>;

export type PodCount = { cluster: string; role: 'primary' | 'remote' } & (
  | { ok: true; ready: number; total: number }
  | { ok: false; reason: string }
);

export interface DestinationFacts {
  target: Target;
  /** Why the subset cannot be resolved (no DestinationRule, no such subset), if so. */
  problem?: string;
  pods: PodCount[];
  tunnels: Record<string, TunnelState>;
}

const CLUSTER_SUFFIX = '.svc.cluster.local';

/** `reviews` in namespace default, `reviews.default`, `reviews.default.svc.cluster.local` are the same host. */
export function resolveHost(
  host: string,
  namespace: string,
): { namespace: string; name: string; fqdn: string } {
  const parts = host.replace(/\.$/, '').split('.');
  const name = parts[0] ?? host;
  const ns = parts.length >= 2 ? parts[1]! : namespace;
  return { name, namespace: ns, fqdn: `${name}.${ns}${CLUSTER_SUFFIX}` };
}

/** Every distinct host + subset the new specs route or mirror to. */
export function destinationsOf(changes: readonly Change[]): Target[] {
  const out = new Map<string, Target>();
  const add = (d: Destination, namespace: string) => {
    const svc = resolveHost(d.host, namespace);
    out.set(`${svc.fqdn}|${d.subset ?? ''}`, {
      host: d.host,
      ...(d.subset ? { subset: d.subset } : {}),
      service: { namespace: svc.namespace, name: svc.name },
    });
  };
  for (const change of changes) {
    const spec: VirtualServiceSpec | null = change.after;
    if (!spec) continue;
    for (const rule of spec.http ?? []) {
      for (const r of rule.route ?? []) add(r.destination, change.ref.namespace);
      if (rule.mirror) add(rule.mirror, change.ref.namespace);
    }
    for (const rule of [...(spec.tcp ?? []), ...(spec.tls ?? [])])
      for (const r of rule.route ?? []) add(r.destination, change.ref.namespace);
  }
  return [...out.values()];
}

/** The subset's pod labels from the DestinationRules, or why there are none. */
export function subsetLabels(
  target: Target,
  rules: readonly DestinationRuleSubsets[],
): { labels: Record<string, string> } | { problem: string } {
  const fqdn = resolveHost(target.host, target.service.namespace).fqdn;
  const rule = rules.find((r) => resolveHost(r.host, r.namespace).fqdn === fqdn);
  if (!target.subset) return { labels: {} };
  if (!rule) return { problem: `no DestinationRule defines subsets for host ${target.host}` };
  const subset = rule.subsets.find((s) => s.name === target.subset);
  if (!subset)
    return {
      problem: `DestinationRule ${rule.name} has no subset ${target.subset} (it has ${rule.subsets.map((s) => s.name).join(', ') || 'none'})`,
    };
  return { labels: subset.labels };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function podsText(p: PodCount): string {
  if (!p.ok) return `${p.cluster} could not be asked (${p.reason})`;
  if (p.total === 0) return `none on ${p.cluster}`;
  return `${p.ready} of ${plural(p.total, 'pod')} ready on ${p.cluster}`;
}

/** The verdict for one destination, as one line that names clusters and causes. */
export function judgeDestination(facts: DestinationFacts): PreflightCheck {
  const t = facts.target;
  const name = `${shortHost(t.host)}${t.subset ? ` ${t.subset}` : ''}`;
  if (facts.problem) return { level: 'fail', text: `${name}: ${facts.problem}` };
  const ready = facts.pods.filter((p) => p.ok && p.ready > 0);
  const unreachable = facts.pods.filter((p) => !p.ok);
  const where = facts.pods.map(podsText).join('; ');
  if (ready.some((p) => p.role === 'primary')) return { level: 'ok', text: `${name}: ${where}` };
  if (ready.length === 0) {
    const cause =
      unreachable.length > 0
        ? ` — ${unreachable.map((p) => p.cluster).join(', ')} unreachable, so its pods there cannot be confirmed`
        : '';
    return { level: 'fail', text: `${name}: no ready pods in any cluster (${where})${cause}` };
  }
  // Ready only on remotes: traffic from the primary's side crosses the VPN.
  const tunnels = ready.map((p) => ({
    cluster: p.cluster,
    tunnel: facts.tunnels[p.cluster] ?? { state: 'unknown' },
  }));
  if (tunnels.some((x) => x.tunnel.state === 'up'))
    return {
      level: 'ok',
      text: `${name}: ${where} (VPN tunnel to ${tunnels
        .filter((x) => x.tunnel.state === 'up')
        .map((x) => x.cluster)
        .join(', ')} up)`,
    };
  const down = tunnels.filter((x) => x.tunnel.state === 'down');
  if (down.length === tunnels.length)
    return {
      level: 'fail',
      text: `${name}: runs only on ${down.map((x) => x.cluster).join(', ')}, and the VPN tunnel to ${down.map((x) => x.cluster).join(', ')} is down${down[0]?.tunnel.reason ? ` (${down[0].tunnel.reason})` : ''}: its traffic would fail`,
    };
  const unknown = tunnels.find((x) => x.tunnel.state === 'unknown');
  return {
    level: 'warn',
    text: `${name}: ${where}; runs only on remotes and the VPN tunnel state is unknown${unknown?.tunnel.reason ? ` (${unknown.tunnel.reason})` : ''}`,
  };
}

const isReady = (pod: {
  status?: { phase?: string; conditions?: { type?: string; status?: string }[] };
  metadata?: { deletionTimestamp?: unknown };
}) =>
  pod.status?.phase === 'Running' &&
  !pod.metadata?.deletionTimestamp &&
  (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

async function countPods(
  cluster: Cluster,
  namespace: string,
  labels: Record<string, string>,
): Promise<PodCount> {
  try {
    const list = await cluster.core.listNamespacedPod(
      { namespace, labelSelector: selectorText(labels) },
      cluster.options(),
    );
    const pods = list.items ?? [];
    return {
      cluster: cluster.name,
      role: cluster.role,
      ok: true,
      ready: pods.filter(isReady).length,
      total: pods.length,
    };
  } catch (err) {
    return { cluster: cluster.name, role: cluster.role, ok: false, reason: classifyKubeError(err).reason };
  }
}

/** The Service's selector on the primary: subsets narrow it, they never replace it. */
async function serviceSelector(primary: Cluster, target: Target): Promise<Record<string, string> | string> {
  try {
    const svc = await primary.core.readNamespacedService(
      { namespace: target.service.namespace, name: target.service.name },
      primary.options(),
    );
    return svc.spec?.selector ?? {};
  } catch (err) {
    const failure = classifyKubeError(err);
    return failure.kind === 'not-found'
      ? `no Service ${target.service.name} in ${target.service.namespace} on ${primary.name}`
      : `Service ${target.service.name} could not be read on ${primary.name} (${failure.reason})`;
  }
}

export interface PreflightDeps {
  primary: Cluster;
  all: readonly Cluster[];
  tunnel?: TunnelProbe;
}

/** Gathers facts for every destination of the change (all clusters in parallel) and judges each. */
export async function runPreflight(
  deps: PreflightDeps,
  changes: readonly Change[],
): Promise<PreflightCheck[]> {
  const targets = destinationsOf(changes);
  if (targets.length === 0) return [];
  let rules: DestinationRuleSubsets[];
  try {
    rules = await listDestinationRules(
      deps.primary,
      targets.map((t) => t.service.namespace),
    );
  } catch (err) {
    return [
      {
        level: 'fail',
        text: `DestinationRules could not be read on ${deps.primary.name}: ${classifyKubeError(err).reason}`,
      },
    ];
  }
  const tunnelCache = new Map<string, Promise<TunnelState>>();
  const tunnelOf = (remote: Cluster) => {
    let state = tunnelCache.get(remote.name);
    if (!state) {
      state = deps.tunnel
        ? deps.tunnel(remote).catch((err: unknown) => ({ state: 'unknown' as const, reason: String(err) }))
        : Promise.resolve({ state: 'unknown' as const, reason: 'no VPN check configured' });
      tunnelCache.set(remote.name, state);
    }
    return state;
  };
  const facts = await Promise.all(
    targets.map(async (target): Promise<DestinationFacts> => {
      const subset = subsetLabels(target, rules);
      if ('problem' in subset) return { target, problem: subset.problem, pods: [], tunnels: {} };
      const selector = await serviceSelector(deps.primary, target);
      if (typeof selector === 'string') return { target, problem: selector, pods: [], tunnels: {} };
      const labels = { ...selector, ...subset.labels };
      const pods = await Promise.all(deps.all.map((c) => countPods(c, target.service.namespace, labels)));
      const tunnels: Record<string, TunnelState> = {};
      const primaryReady = pods.some((p) => p.role === 'primary' && p.ok && p.ready > 0);
      if (!primaryReady) {
        for (const p of pods) {
          const remote = deps.all.find((c) => c.name === p.cluster);
          if (p.ok && p.ready > 0 && remote && remote.role === 'remote')
            tunnels[p.cluster] = await tunnelOf(remote);
        }
      }
      return { target, pods, tunnels };
    }),
  );
  return facts.map(judgeDestination);
}
