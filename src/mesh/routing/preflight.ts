import { parse as parseYaml } from 'yaml';
import { plural } from '../../chat/mrkdwn.ts';
import type { IstioProfile } from '../../config/schema.ts';
import { labelsProblem, selectorText } from '../../config/selector.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { remoteSecretNames } from '../istio/gather.ts';
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
  /** Remotes whose ready pods pilot cannot route to, and why (no Service there, no remote secret). */
  unroutable?: Record<string, string>;
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
  const invalid = labelsProblem(subset.labels);
  if (invalid)
    return {
      problem: `DestinationRule ${rule.name} subset ${target.subset} has labels no pod can carry (${invalid})`,
    };
  return { labels: subset.labels };
}

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
  const unroutable = facts.unroutable ?? {};
  const usable = ready.filter((p) => !unroutable[p.cluster]);
  if (ready.length > 0 && usable.length === 0)
    return {
      level: 'fail',
      text: `${name}: ${where}, but ${ready.map((p) => unroutable[p.cluster]).join('; ')}: its traffic would fail`,
    };
  if (ready.length === 0) {
    const cause =
      unreachable.length > 0
        ? ` — ${unreachable.map((p) => p.cluster).join(', ')} unreachable, so its pods there cannot be confirmed`
        : '';
    return { level: 'fail', text: `${name}: no ready pods in any cluster (${where})${cause}` };
  }
  // Ready only on remotes: traffic from the primary's side crosses the VPN.
  const tunnels = usable.map((p) => ({
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

/**
 * Why pilot on the primary cannot route to a remote's pods of this host, if it cannot. Istio 1.0 pilot
 * learns a remote's endpoints only through the remote's Services (its Kubernetes registry for that
 * cluster lists Services, then their Endpoints) and only for clusters it has a remote secret for.
 */
async function routability(
  remote: Cluster,
  target: Target,
  secretOf: (remote: Cluster) => Promise<string | undefined>,
): Promise<string | undefined> {
  const [service, secretProblem] = await Promise.all([
    remote.core
      .readNamespacedService(
        { namespace: target.service.namespace, name: target.service.name },
        remote.options(),
      )
      .then(
        () => undefined,
        (err: unknown) => {
          const failure = classifyKubeError(err);
          return failure.kind === 'not-found'
            ? `${remote.name} has no Service ${target.service.name} in ${target.service.namespace}, through which pilot discovers its pods there`
            : `the Service ${target.service.name} could not be read on ${remote.name} (${failure.reason})`;
        },
      ),
    secretOf(remote),
  ]);
  const problems = [service, secretProblem].filter((p): p is string => p !== undefined);
  return problems.length > 0 ? problems.join(', and ') : undefined;
}

/** Why pilot on the primary has no kubeconfig for `remote`, if so: its remote secret is missing. */
async function remoteSecretProblem(
  primary: Cluster,
  remote: Cluster,
  namespace: string,
): Promise<string | undefined> {
  const names = remoteSecretNames({
    name: remote.name,
    ...(remote.config.remoteSecret ? { secret: remote.config.remoteSecret } : {}),
  });
  for (const name of names) {
    try {
      await primary.core.readNamespacedSecret({ name, namespace }, primary.options());
      return undefined;
    } catch (err) {
      const failure = classifyKubeError(err);
      if (failure.kind !== 'not-found')
        return `the remote secret for ${remote.name} could not be read on ${primary.name} (${failure.reason})`;
    }
  }
  return `${primary.name} has no remote secret for ${remote.name} (looked for ${names.map((n) => `"${n}"`).join(' and ')} in ${namespace}), so pilot knows no endpoints there`;
}

/**
 * The mutual TLS a service's sidecars accept on Istio 1.0, as pilot 1.0.2 decides it
 * (pilot/pkg/model/authentication.go GetConsolidateAuthenticationPolicy, pilot/pkg/model/config.go
 * AuthenticationPolicyByDestination): a Policy (authentication.istio.io/v1alpha1) in the service's namespace
 * targeting the service, else one without targets (the namespace's), else the cluster-scoped MeshPolicy
 * named `default`, else the deprecated `authPolicy` of the mesh config. `off`: plain text only; `STRICT`:
 * mutual TLS only; `PERMISSIVE`: both (the mtls peer's mode).
 */
export interface MeshMtls {
  mode: 'off' | 'STRICT' | 'PERMISSIVE';
  /** Where it was read, for the user: "MeshPolicy default on icp", "authPolicy: MUTUAL_TLS in …". */
  source: string;
}

interface MeshPolicySpec {
  peers?: { mtls?: { mode?: string; allowTls?: boolean } | null }[];
  targets?: { name?: string }[];
}

const AUTHN = { group: 'authentication.istio.io', version: 'v1alpha1' } as const;

/** The Policy pilot applies to `target`'s Service, if any: one naming it beats one for the whole namespace. */
export function policyFor(
  target: Target,
  policies: readonly { name: string; spec?: MeshPolicySpec }[],
): { name: string; spec?: MeshPolicySpec } | undefined {
  const fqdn = resolveHost(target.service.name, target.service.namespace).fqdn;
  const named = policies.find((p) =>
    (p.spec?.targets ?? []).some(
      (t) => t.name && resolveHost(t.name, target.service.namespace).fqdn === fqdn,
    ),
  );
  return named ?? policies.find((p) => (p.spec?.targets ?? []).length === 0);
}

async function listPolicies(
  primary: Cluster,
  namespace: string,
): Promise<{ name: string; spec?: MeshPolicySpec }[] | string> {
  try {
    const list = (await primary.custom.listNamespacedCustomObject(
      { ...AUTHN, namespace, plural: 'policies' },
      primary.options(),
    )) as { items?: { metadata?: { name?: string }; spec?: MeshPolicySpec }[] };
    return (list.items ?? []).map((p) => ({
      name: p.metadata?.name ?? '',
      ...(p.spec ? { spec: p.spec } : {}),
    }));
  } catch (err) {
    return `the authentication Policies in ${namespace} could not be read on ${primary.name} (${classifyKubeError(err).reason})`;
  }
}

export function meshPolicyMode(spec: MeshPolicySpec | undefined): MeshMtls['mode'] {
  const peer = (spec?.peers ?? []).find((p) => p && 'mtls' in p);
  if (!peer) return 'off';
  return peer.mtls?.mode === 'PERMISSIVE' ? 'PERMISSIVE' : 'STRICT';
}

const MESH_POLICY = { ...AUTHN, plural: 'meshpolicies', name: 'default' } as const;

async function meshMtls(primary: Cluster, namespace: string): Promise<MeshMtls | string | undefined> {
  try {
    const policy = (await primary.custom.getClusterCustomObject(MESH_POLICY, primary.options())) as {
      spec?: MeshPolicySpec;
    };
    return { mode: meshPolicyMode(policy.spec), source: `MeshPolicy default on ${primary.name}` };
  } catch (err) {
    const failure = classifyKubeError(err);
    if (failure.kind !== 'not-found')
      return `the MeshPolicy default could not be read on ${primary.name} (${failure.reason})`;
  }
  const where = `ConfigMap ${namespace}/istio on ${primary.name}`;
  try {
    const cm = await primary.core.readNamespacedConfigMap({ name: 'istio', namespace }, primary.options());
    const mesh = parseYaml(cm.data?.mesh ?? '') as { authPolicy?: unknown } | null;
    const policy = typeof mesh?.authPolicy === 'string' ? mesh.authPolicy : 'NONE';
    return {
      mode: policy === 'MUTUAL_TLS' ? 'STRICT' : 'off',
      source: `no MeshPolicy default; authPolicy: ${policy} in ${where}`,
    };
  } catch (err) {
    const failure = classifyKubeError(err);
    // Without a mesh config there is nothing to compare with.
    return failure.kind === 'not-found'
      ? undefined
      : `the mesh config could not be read (${where}: ${failure.reason})`;
  }
}

/** Does the DestinationRule's TLS mode for this subset fit the mesh's mutual TLS? */
export function tlsFit(
  target: Target,
  rules: readonly DestinationRuleSubsets[],
  mtls: MeshMtls | undefined,
): PreflightCheck | undefined {
  if (!mtls || mtls.mode === 'PERMISSIVE') return undefined;
  const fqdn = resolveHost(target.host, target.service.namespace).fqdn;
  const rule = rules.find((r) => resolveHost(r.host, r.namespace).fqdn === fqdn);
  const mode = rule?.subsets.find((s) => s.name === target.subset)?.tlsMode ?? rule?.tlsMode;
  const name = `${shortHost(target.host)}${target.subset ? ` ${target.subset}` : ''}`;
  const sets = rule
    ? `DestinationRule ${rule.name} sets ${mode ? `tls.mode ${mode}` : 'no tls.mode'}`
    : 'no DestinationRule sets a tls.mode';
  if (mtls.mode === 'STRICT' && mode !== 'ISTIO_MUTUAL')
    return {
      level: 'fail',
      text: `${name}: ${sets}, but the mesh requires mutual TLS (${mtls.source}): the sidecars would refuse these requests; set tls.mode ISTIO_MUTUAL`,
    };
  if (mtls.mode === 'off' && mode === 'ISTIO_MUTUAL')
    return {
      level: 'fail',
      text: `${name}: ${sets}, but mutual TLS is off for ${shortHost(target.host)} (${mtls.source}): its sidecars would reset these connections; remove tls.mode ISTIO_MUTUAL or turn mutual TLS on`,
    };
  return undefined;
}

export interface PreflightDeps {
  primary: Cluster;
  all: readonly Cluster[];
  tunnel?: TunnelProbe;
  /** The primary's Istio namespace: its remote secrets and mesh config live there. */
  istioNamespace: string;
  /** Istio 1.0 keeps mutual TLS in MeshPolicy and mesh config; modern Istio's auto mTLS picks it per endpoint. */
  profile: IstioProfile;
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
  const secretCache = new Map<string, Promise<string | undefined>>();
  const secretOf = (remote: Cluster) => {
    let problem = secretCache.get(remote.name);
    if (!problem) {
      problem = remoteSecretProblem(deps.primary, remote, deps.istioNamespace);
      secretCache.set(remote.name, problem);
    }
    return problem;
  };
  const mtlsRead =
    deps.profile === 'istio-1.0' ? meshMtls(deps.primary, deps.istioNamespace) : Promise.resolve(undefined);
  const facts = await Promise.all(
    targets.map(async (target): Promise<DestinationFacts> => {
      const subset = subsetLabels(target, rules);
      if ('problem' in subset) return { target, problem: subset.problem, pods: [], tunnels: {} };
      const selector = await serviceSelector(deps.primary, target);
      if (typeof selector === 'string') return { target, problem: selector, pods: [], tunnels: {} };
      const labels = { ...selector, ...subset.labels };
      const pods = await Promise.all(deps.all.map((c) => countPods(c, target.service.namespace, labels)));
      const tunnels: Record<string, TunnelState> = {};
      const unroutable: Record<string, string> = {};
      const primaryReady = pods.some((p) => p.role === 'primary' && p.ok && p.ready > 0);
      if (!primaryReady) {
        for (const p of pods) {
          const remote = deps.all.find((c) => c.name === p.cluster);
          if (!(p.ok && p.ready > 0 && remote && remote.role === 'remote')) continue;
          const problem = await routability(remote, target, secretOf);
          if (problem) unroutable[p.cluster] = problem;
          else tunnels[p.cluster] = await tunnelOf(remote);
        }
      }
      return { target, pods, tunnels, ...(Object.keys(unroutable).length > 0 ? { unroutable } : {}) };
    }),
  );
  const mesh = await mtlsRead;
  const policies = new Map(
    deps.profile === 'istio-1.0' && mesh !== undefined
      ? await Promise.all(
          [...new Set(targets.map((t) => t.service.namespace))].map(
            async (ns) => [ns, await listPolicies(deps.primary, ns)] as const,
          ),
        )
      : [],
  );
  const unread = new Set<string>(typeof mesh === 'string' ? [mesh] : []);
  const mtlsOf = (target: Target): MeshMtls | undefined => {
    if (mesh === undefined || typeof mesh === 'string') return undefined;
    const inNamespace = policies.get(target.service.namespace) ?? [];
    if (typeof inNamespace === 'string') {
      unread.add(inNamespace);
      return undefined;
    }
    const policy = policyFor(target, inNamespace);
    return policy
      ? {
          mode: meshPolicyMode(policy.spec),
          source: `Policy ${policy.name} in ${target.service.namespace} on ${deps.primary.name}`,
        }
      : mesh;
  };
  const checks = facts.flatMap((f) => {
    const tls = f.problem ? undefined : tlsFit(f.target, rules, mtlsOf(f.target));
    return [judgeDestination(f), ...(tls ? [tls] : [])];
  });
  return [
    ...checks,
    ...[...unread].map((why): PreflightCheck => ({ level: 'warn', text: `mutual TLS not compared: ${why}` })),
  ];
}
