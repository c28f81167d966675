import type { Redis } from 'ioredis';
import type { MeshConfig } from '../../config/schema.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import type { Clusters } from '../../kube/registry.ts';
import type { Logger } from '../../observability/logger.ts';
import { type AnalysisInput, analyze, type ClusterNet, type ProbeSource } from './analyze.ts';
import { readTunnelSide, runProbe } from './exec.ts';
import {
  addressTarget,
  cidrsOf,
  discoverTargets,
  type FoundPod,
  findPod,
  podWithIp,
  probeSelector,
  strongswanSelector,
  type Targets,
} from './gather.ts';
import { compare, loadSnapshot, saveSnapshot, snapshotOf } from './history.ts';
import { containingCidr, isIpv4 } from './ipv4.ts';
import { mapLimit } from './pool.ts';
import type { PodRef, ProbeResult, ProbeTarget, VpnReport, VpnSettings } from './report.ts';
import { withoutPods } from './targets.ts';
import type { PeerCidrs } from './tunnel.ts';

/**
 * `/mesh vpn` and `/mesh ping` as functions of the clusters: list what to use (API only), then run every
 * tunnel read and every ping at once under the concurrency bound, then judge. The scheduled health posts
 * call runVpnCheck with their job context, which has everything VpnDeps asks for.
 */

export interface VpnDeps {
  config: MeshConfig;
  clusters: Clusters;
  redis: Redis;
  /** Key prefix: the previous run is kept at `${prefix}:vpn:last`. */
  prefix: string;
  log: Logger;
  signal?: AbortSignal;
}

export function vpnSettings(config: MeshConfig): VpnSettings {
  const { count, timeout, concurrency, thresholds } = config.vpn;
  return { count, timeoutMs: timeout, concurrency, thresholds };
}

const netOf = (c: Cluster): ClusterNet => ({
  name: c.name,
  role: c.role,
  podCidrs: c.config.podCidrs,
  serviceCidrs: c.config.serviceCidrs,
});
const peerCidrs = (c: Cluster): PeerCidrs => ({ name: c.name, cidrs: cidrsOf(c) });

/** The mesh is a star: the primary has a tunnel to every remote, a remote only to the primary. */
function topologyPeers(clusters: Clusters, c: Cluster): Cluster[] {
  return c.role === 'primary' ? [...clusters.remotes] : [clusters.primary];
}

interface Endpoints {
  strongswan: FoundPod;
  probe: FoundPod;
  /** The probe is the strongSwan pod (no vpn.probe configured). */
  shared: boolean;
}

async function endpointsOf(deps: VpnDeps, c: Cluster, now: number): Promise<Endpoints> {
  const timeout = deps.config.checks.clusterTimeout;
  const ss = strongswanSelector(deps.config, c);
  const pr = probeSelector(deps.config, c);
  const same = ss.namespace === pr.namespace && ss.selector === pr.selector && ss.container === pr.container;
  const [strongswan, probe] = await Promise.all([
    findPod(c, ss, timeout, now),
    same ? undefined : findPod(c, pr, timeout, now),
  ]);
  return { strongswan, probe: probe ?? strongswan, shared: same };
}

function sourceOf(c: Cluster, e: Endpoints): ProbeSource {
  const found = e.probe;
  if (found.ok) return { cluster: c.name, ok: true, pod: found.pod };
  const where = found.pod
    ? `${found.pod.namespace}/${found.pod.name} is not ready (${found.problem})`
    : found.problem;
  return { cluster: c.name, ok: false, problem: where, shared: e.shared };
}

const usedPods = (e: Endpoints | undefined): PodRef[] =>
  [e?.strongswan, e?.probe].flatMap((f) => (f?.ok ? [f.pod] : f?.pod ? [f.pod] : []));

interface Plan {
  scope: VpnReport['scope'];
  pairs: (readonly [string, string])[];
  /** Clusters whose strongSwan state is read. */
  sides: Cluster[];
  /** Pings to send: from a cluster to targets on another. */
  directions: { from: Cluster; targets: ProbeTarget[] }[];
  endpoints: Map<string, Endpoints>;
  discovery: { cluster: string; problem: string }[];
  skipped: string[];
}

async function execute(deps: VpnDeps, plan: Plan, started: number, checkedAt: string): Promise<VpnReport> {
  const settings = vpnSettings(deps.config);
  const { clusters } = deps;
  const sides = plan.sides.map((c) => {
    const peers = topologyPeers(clusters, c);
    for (const [a, b] of plan.pairs) {
      const other = a === c.name ? b : b === c.name ? a : undefined;
      const cluster = other === undefined ? undefined : clusters.get(other);
      if (cluster && !peers.includes(cluster)) peers.push(cluster);
    }
    return readTunnelSide(c, plan.endpoints.get(c.name)!.strongswan, {
      own: peerCidrs(c),
      peers: peers.map(peerCidrs),
      onlyPeer: topologyPeers(clusters, c).length === 1,
      timeoutMs: deps.config.checks.clusterTimeout,
    });
  });
  const sources = plan.directions.map(({ from }) => sourceOf(from, plan.endpoints.get(from.name)!));
  const jobs = plan.directions.flatMap(({ from, targets }, i) => {
    const source = sources[i]!;
    return source.ok ? targets.map((target) => ({ from, probe: source.pod, target })) : [];
  });
  // Tunnel reads and pings go out together: the matrix takes about as long as its slowest probe.
  const [tunnels, probes] = await Promise.all([
    Promise.all(sides),
    mapLimit(jobs, settings.concurrency, (j) => runProbe(j.from, j.probe, j.target, settings), {
      ...(deps.signal ? { signal: deps.signal } : {}),
      onAbort: (j): ProbeResult => ({
        key: `${j.from.name}>${j.target.cluster}/${j.target.label}`,
        from: j.from.name,
        probe: j.probe,
        target: j.target,
        outcome: { kind: 'exec-failed', reason: 'not started: the job ran out of time', forbidden: false },
        status: 'error',
      }),
    }),
  ]);
  const input: AnalysisInput = {
    clusters: clusters.all.map(netOf),
    pairs: plan.pairs,
    tunnels,
    sources: dedupe(sources),
    probes,
    discovery: plan.discovery,
    skipped: plan.skipped,
    settings,
  };
  const analysis = analyze(input);
  return {
    scope: plan.scope,
    checkedAt,
    durationMs: Math.round(performance.now() - started),
    verdict: analysis.verdict,
    summary: analysis.summary,
    settings,
    pairs: plan.pairs.map(([a, b]) => [a, b]),
    tunnels: tunnels.sort((a, b) => a.cluster.localeCompare(b.cluster)),
    probes,
    findings: analysis.findings,
  };
}

const dedupe = (sources: ProbeSource[]) => [...new Map(sources.map((s) => [s.cluster, s])).values()];

function collect(targets: Map<string, Targets>): Pick<Plan, 'discovery' | 'skipped'> {
  const discovery: Plan['discovery'] = [];
  const skipped: string[] = [];
  for (const [cluster, t] of targets) {
    if (t.problem) discovery.push({ cluster, problem: t.problem });
    skipped.push(...t.skipped);
  }
  return { discovery, skipped };
}

/** Every tunnel of the star, and pings both ways: remote → the primary's control plane, primary → each remote's apps. */
export async function runVpnCheck(deps: VpnDeps): Promise<VpnReport> {
  const started = performance.now();
  const now = Date.now();
  const { clusters, config } = deps;
  const all = clusters.all;
  // Every cluster's strongSwan and probe pods and what to ping there, all in one round of API calls.
  const found = await Promise.all(
    all.map(async (c) => {
      const [e, t] = await Promise.all([
        endpointsOf(deps, c, now),
        discoverTargets(config, c, config.checks.clusterTimeout, now),
      ]);
      return { e, t: withoutPods(t, usedPods(e)) };
    }),
  );
  const endpoints = new Map(all.map((c, i) => [c.name, found[i]!.e]));
  const targets = new Map(all.map((c, i) => [c.name, found[i]!.t]));
  const primary = clusters.primary;
  const plan: Plan = {
    scope: { kind: 'matrix' },
    pairs: clusters.remotes.map((r) => [primary.name, r.name] as const),
    sides: [...all],
    directions: [
      ...clusters.remotes.map((r) => ({ from: r, targets: targets.get(primary.name)!.targets })),
      ...clusters.remotes.map((r) => ({ from: primary, targets: targets.get(r.name)!.targets })),
    ],
    endpoints,
    ...collect(targets),
  };
  const checkedAt = new Date(now).toISOString();
  const report = await execute(deps, plan, started, checkedAt);
  const snapshot = snapshotOf(checkedAt, report.probes);
  const previous = await loadSnapshot(deps.redis, deps.prefix);
  await saveSnapshot(deps.redis, deps.prefix, snapshot);
  if (previous) report.comparison = compare(previous, snapshot, config.vpn.thresholds.rttChangePercent);
  deps.log.info(
    { verdict: report.verdict, probes: report.probes.length, durationMs: report.durationMs },
    'vpn check finished',
  );
  return report;
}

/** `/mesh ping <from> <cluster|ip>`: from one cluster's probe pod to another cluster's targets or to one address. */
export interface PingRequest {
  from: string;
  target: { type: 'cluster'; name: string } | { type: 'ip'; ip: string };
}

export type PingAnswer = { ok: true; report: VpnReport } | { ok: false; refusal: string };

/** Where an address belongs: a configured pod or service CIDR, else a pod that has it right now. */
async function locate(
  deps: VpnDeps,
  ip: string,
  now: number,
): Promise<{ cluster: Cluster; target: ProbeTarget } | { refusal: string }> {
  const timeout = deps.config.checks.clusterTimeout;
  const all = deps.clusters.all;
  const byCidr = all.find((c) => containingCidr(cidrsOf(c), ip) !== undefined);
  const lookups = await Promise.all(
    (byCidr ? [byCidr] : all).map(async (c) => {
      try {
        return { cluster: c, pod: await podWithIp(c, ip, timeout, now) };
      } catch (err) {
        return { cluster: c, pod: undefined, failure: classifyKubeError(err, timeout).reason };
      }
    }),
  );
  if (byCidr) {
    const pod = lookups[0]?.pod;
    return { cluster: byCidr, target: addressTarget(byCidr, ip, containingCidr(cidrsOf(byCidr), ip), pod) };
  }
  const found = lookups.find((l) => l.pod);
  if (found)
    return { cluster: found.cluster, target: addressTarget(found.cluster, ip, undefined, found.pod) };
  const ranges = all.map((c) => `${c.name}: ${cidrsOf(c).join(', ') || 'none configured'}`).join('; ');
  const unknown = lookups.filter((l) => l.failure).map((l) => `${l.cluster.name} (${l.failure})`);
  return {
    refusal:
      `${ip} is not inside a pod or service CIDR of a configured cluster (${ranges}) and no pod has that IP` +
      (unknown.length > 0 ? `; could not look on ${unknown.join(', ')}` : '') +
      ': nothing was pinged',
  };
}

/** One probe pod to one address, or to every target of one cluster, with the same judgement as the matrix. */
export async function runPingCheck(deps: VpnDeps, command: PingRequest): Promise<PingAnswer> {
  const started = performance.now();
  const now = Date.now();
  const { clusters, config } = deps;
  const from = clusters.get(command.from);
  if (!from) return { ok: false, refusal: `unknown cluster "${command.from}"` };
  let to: Cluster;
  let fixed: ProbeTarget | undefined;
  if (command.target.type === 'ip') {
    const ip = command.target.ip;
    if (!isIpv4(ip)) return { ok: false, refusal: `"${ip}" is not a plain IPv4 address: nothing was pinged` };
    const where = await locate(deps, ip, now);
    if ('refusal' in where) return { ok: false, refusal: where.refusal };
    if (where.cluster.name === from.name) {
      return {
        ok: false,
        refusal: `${ip} is on ${from.name} itself; /mesh ping goes across the VPN, so pick an address on another cluster`,
      };
    }
    to = where.cluster;
    fixed = where.target;
  } else {
    const named = clusters.get(command.target.name);
    if (!named || named.name === from.name)
      return { ok: false, refusal: 'the target must be another configured cluster' };
    to = named;
  }
  const ends = [from, to];
  const [endpointList, discovered] = await Promise.all([
    Promise.all(ends.map((c) => endpointsOf(deps, c, now))),
    fixed ? undefined : discoverTargets(config, to, config.checks.clusterTimeout, now),
  ]);
  const endpoints = new Map(ends.map((c, i) => [c.name, endpointList[i]!]));
  const targets: Targets = discovered
    ? withoutPods(discovered, usedPods(endpoints.get(to.name)))
    : { targets: [fixed!], skipped: [] };
  const plan: Plan = {
    scope: { kind: 'ping', from: from.name, target: fixed ? fixed.ip : to.name },
    pairs: [[from.name, to.name]],
    sides: ends,
    directions: [{ from, targets: targets.targets }],
    endpoints,
    ...collect(new Map([[to.name, targets]])),
  };
  const report = await execute(deps, plan, started, new Date(now).toISOString());
  return { ok: true, report };
}
