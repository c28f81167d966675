import type { MeshConfig } from '../../config/schema.ts';
import { probeSelector, strongswanSelector } from '../../config/vpn-pods.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import type { Clusters } from '../../kube/registry.ts';
import type { Logger } from '../../observability/logger.ts';
import type { HistoryPort } from '../history.ts';
import { type AnalysisInput, analyze, type ClusterNet, type ProbeSource } from './analyze.ts';
import {
  readTunnelSide,
  rereadCounters,
  runMtuProbe,
  runPortProbe,
  runProbe,
  type SideContext,
} from './exec.ts';
import {
  addressTarget,
  cidrsOf,
  discoverTargets,
  type FoundPod,
  findPod,
  listNodeProbeCandidates,
  type NodeProbes,
  nodeProbeSelector,
  pickNodeProbes,
  podWithIp,
  readRoutes,
  routesSelector,
  type Targets,
} from './gather.ts';
import { compare, recordVpnRun, vpnRunOf } from './history.ts';
import { containingCidr, isIpv4 } from './ipv4.ts';
import { MTU_WAIT_MS } from './mtu.ts';
import { pingWaitMs } from './ping.ts';
import { mapLimit } from './pool.ts';
import type { PodRef, ProbeResult, ProbeTarget, RoutesState, VpnReport, VpnSettings } from './report.ts';
import { CONTROL_PLANE_PORTS, type ServiceTarget, withoutPods } from './targets.ts';
import type { PeerCidrs } from './tunnel.ts';

/**
 * `/mesh vpn` and `/mesh ping` as functions of the clusters: list what to use (API only), then run every
 * tunnel read and every ping at once under the concurrency bound, then judge. The scheduled health posts
 * call runVpnCheck with their job context, which has everything VpnDeps asks for.
 */

export interface VpnDeps {
  config: MeshConfig;
  clusters: Clusters;
  /** Where matrix runs are kept; without it a run is neither kept nor compared with the previous one. */
  history?: HistoryPort;
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
  /** Pings to send: from a cluster to targets on another; `services` get the control-plane port checks too. */
  directions: { from: Cluster; targets: ProbeTarget[]; services?: ServiceTarget[] }[];
  endpoints: Map<string, Endpoints>;
  /** Ordinary pods to probe from, per cluster (the full check only; `/mesh ping` stays one probe). */
  nodeProbes?: Map<string, NodeProbes>;
  /** The routes DaemonSet of each cluster that has one (the full check only). */
  routes?: RoutesState[];
  discovery: { cluster: string; problem: string }[];
  skipped: string[];
}

interface Job {
  /** The cluster whose API server runs the exec: the concurrency bound is per cluster. */
  cluster: string;
  /** The target's cluster: the probe's packets cross the tunnel between the two. */
  to: string;
  /** How long the command waits by design (a ping's spacing); 0 for a quick one (a port check). */
  waitsMs: number;
  /** `opened` is called once the command is starting in its pod. */
  run(opened: () => void): Promise<void>;
  /** Records the probe as not started when the job's time is up first. */
  abort(): void;
}

const NOT_STARTED = 'not started: the job ran out of time';

const notStarted = (from: Cluster, probe: PodRef, target: ProbeTarget): ProbeResult => ({
  key: `${from.name}>${target.cluster}/${target.label}`,
  from: from.name,
  probe,
  target,
  outcome: { kind: 'exec-failed', reason: NOT_STARTED, forbidden: false },
  status: 'error',
});

type PathResults = Pick<VpnReport, 'nodeProbes' | 'mtu' | 'ports'>;
const emptyPaths = (): PathResults => ({ nodeProbes: [], mtu: [], ports: [] });

/**
 * The probes that start where app traffic starts, per direction of the matrix: a ping from each node's
 * ordinary pod; the path MTU from one of them; and, from a remote towards the primary, netcat to each
 * control-plane component's ports. A node pings once, not once per peer: the routes DaemonSet routes every
 * peer's subnets on a node at once, so the primary's nodes take its directions in turn (node i pings the
 * first target of direction i mod n) and every peer still gets a ping from a node when there are enough.
 */
function pathProbes(
  plan: Plan,
  nodeProbes: Map<string, NodeProbes>,
  sources: readonly ProbeSource[],
  config: MeshConfig,
): { jobs: Job[]; results: PathResults } {
  const settings = vpnSettings(config);
  const results = emptyPaths();
  const jobs: Job[] = [];
  const job = (
    from: Cluster,
    to: ProbeTarget,
    waitsMs: number,
    run: (opened: () => void) => Promise<void>,
  ): Job => ({
    cluster: from.name,
    to: to.cluster,
    waitsMs,
    run,
    abort: () => {},
  });
  const podsOf = (from: Cluster) => {
    const found = nodeProbes.get(from.name);
    return found?.ok ? found.pods : [];
  };
  const directions = plan.directions.flatMap(({ from, targets, services = [] }, i) =>
    targets[0] ? [{ from, targets, services, first: targets[0], source: sources[i] }] : [],
  );
  for (const from of new Set(directions.map((d) => d.from))) {
    const own = directions.filter((d) => d.from === from);
    podsOf(from).forEach((pod, n) => {
      const { first } = own[n % own.length]!;
      const at = results.nodeProbes.length;
      results.nodeProbes.push(notStarted(from, pod, first));
      jobs.push(
        job(from, first, pingWaitMs(settings.count), async (opened) => {
          const result = await runProbe(from, pod, first, settings, opened);
          results.nodeProbes[at] = {
            ...result,
            key: `${from.name}@${pod.node}>${first.cluster}/${first.label}`,
          };
        }),
      );
    });
  }
  for (const { from, targets, services, first, source } of directions) {
    const pods = podsOf(from);
    const mtuFrom = pods[0] ?? (source?.ok ? source.pod : undefined);
    if (mtuFrom) {
      jobs.push(
        job(from, first, MTU_WAIT_MS, async (opened) => {
          results.mtu.push(
            await runMtuProbe(from, mtuFrom, first, config.vpn.mtu, settings.timeoutMs, opened),
          );
        }),
      );
    }
    const portsFrom = pods[0];
    if (from.role !== 'remote' || !portsFrom) continue;
    const checks = [
      ...targets.map((target) => ({ target, ports: CONTROL_PLANE_PORTS[target.label] ?? [] })),
      ...services,
    ];
    for (const { target, ports } of checks) {
      for (const port of ports) {
        jobs.push(
          job(from, target, 0, async () => {
            results.ports.push(await runPortProbe(from, portsFrom, target, port, settings.timeoutMs));
          }),
        );
      }
    }
  }
  return { jobs, results };
}

/**
 * Tunnel reads and every probe go out in one wave, so the check takes about as long as its slowest probe.
 * Setting up an exec (TLS, upgrade) costs CPU here, and with hundreds at once their set-ups queue on the one
 * event loop: the probes that wait by design (pings) start first, and the quick ones (port checks) once
 * every waiting one is under way, so the quick ones run while the pings wait instead of delaying them. The
 * bound protects each cluster's API server and kubelets, so clusters do not wait on one another.
 */
async function runJobs(
  jobs: readonly Job[],
  concurrency: number,
  signal: AbortSignal | undefined,
  back: (job: Job) => void,
): Promise<void> {
  const ordered = [...jobs].sort((a, b) => b.waitsMs - a.waitsMs);
  const underWay = Promise.withResolvers<void>();
  let waiting = ordered.filter((j) => j.waitsMs > 0).length;
  if (waiting === 0) underWay.resolve();
  await mapLimit(
    ordered,
    concurrency,
    async (j) => {
      if (j.waitsMs === 0) {
        await underWay.promise;
        await j.run(() => {});
        return back(j);
      }
      let counted = false;
      const opened = () => {
        if (counted) return;
        counted = true;
        if (--waiting === 0) underWay.resolve();
      };
      try {
        await j.run(opened);
        back(j);
      } finally {
        opened();
        // Once one is back the pings are on their way out: nothing is gained by holding the rest.
        underWay.resolve();
      }
    },
    {
      ...(signal ? { signal } : {}),
      onAbort: (j) => j.abort(),
      keyOf: (j) => j.cluster,
    },
  );
}

async function execute(deps: VpnDeps, plan: Plan, started: number, checkedAt: string): Promise<VpnReport> {
  const settings = vpnSettings(deps.config);
  const { clusters } = deps;
  const contexts = plan.sides.map((c): SideContext => {
    const peers = topologyPeers(clusters, c);
    for (const [a, b] of plan.pairs) {
      const other = a === c.name ? b : b === c.name ? a : undefined;
      const cluster = other === undefined ? undefined : clusters.get(other);
      if (cluster && !peers.includes(cluster)) peers.push(cluster);
    }
    return {
      own: peerCidrs(c),
      peers: peers.map(peerCidrs),
      onlyPeer: topologyPeers(clusters, c).length === 1,
      timeoutMs: deps.config.checks.clusterTimeout,
    };
  });
  const readAt: number[] = [];
  const sides = plan.sides.map((c, i) =>
    readTunnelSide(c, plan.endpoints.get(c.name)!.strongswan, contexts[i]!).then((side) => {
      readAt[i] = performance.now();
      return side;
    }),
  );
  const sources = plan.directions.map(({ from }) => sourceOf(from, plan.endpoints.get(from.name)!));
  const matrix = plan.directions.flatMap(({ from, targets }, i) => {
    const source = sources[i]!;
    return source.ok ? targets.map((target) => ({ from, probe: source.pod, target })) : [];
  });
  const probes: ProbeResult[] = [];
  const paths = plan.nodeProbes
    ? pathProbes(plan, plan.nodeProbes, sources, deps.config)
    : { jobs: [], results: emptyPaths() };
  const jobs: Job[] = [
    ...matrix.map((j, i) => ({
      cluster: j.from.name,
      to: j.target.cluster,
      waitsMs: pingWaitMs(settings.count),
      run: async (opened: () => void) => {
        probes[i] = await runProbe(j.from, j.probe, j.target, settings, opened);
      },
      abort: () => {
        probes[i] = notStarted(j.from, j.probe, j.target);
      },
    })),
    ...paths.jobs,
  ];
  // A side's second read of the SA counters goes out once a probe through each of its tunnels is back: the
  // two reads then bracket real traffic without adding a round after the last probe.
  const pairKey = (a: string, b: string) => JSON.stringify([a, b].sort());
  const carried = new Map(plan.pairs.map(([a, b]) => [pairKey(a, b), Promise.withResolvers<void>()]));
  const secondReads = Promise.all(
    plan.sides.map(async (c, i) => {
      const tunnels = plan.pairs.filter((pair) => pair.includes(c.name));
      const [side] = await Promise.all([
        sides[i]!,
        ...tunnels.map(([a, b]) => carried.get(pairKey(a, b))!.promise),
      ]);
      return rereadCounters(c, side, contexts[i]!, readAt[i]!);
    }),
  );
  await runJobs(jobs, settings.concurrency, deps.signal, (j) =>
    carried.get(pairKey(j.cluster, j.to))?.resolve(),
  );
  // A tunnel no probe crossed (its probe pod is missing, the job ran out of time) is read again now.
  for (const pair of carried.values()) pair.resolve();
  const tunnels = await secondReads;
  paths.results.mtu.sort((a, b) => a.key.localeCompare(b.key));
  paths.results.ports.sort((a, b) => a.key.localeCompare(b.key));
  const input: AnalysisInput = {
    clusters: clusters.all.map(netOf),
    pairs: plan.pairs,
    tunnels,
    sources: dedupe(sources),
    probes,
    ...paths.results,
    routes: plan.routes ?? [],
    nodeProbeProblems: [...(plan.nodeProbes ?? [])].flatMap(([cluster, n]) =>
      n.ok
        ? n.pods.length === 0
          ? [{ cluster, problem: 'no pod to probe from' }]
          : []
        : [{ cluster, problem: n.problem }],
    ),
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
    ...paths.results,
    routes: plan.routes ?? [],
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
  // Every cluster's strongSwan, probe and node probe pods and what to ping there, per cluster at once.
  const timeout = config.checks.clusterTimeout;
  const found = await Promise.all(
    all.map(async (c) => {
      const selector = nodeProbeSelector(config, c);
      const [e, candidates, t, r] = await Promise.all([
        endpointsOf(deps, c, now),
        listNodeProbeCandidates(c, selector, timeout, now),
        discoverTargets(config, c, timeout, now),
        readRoutes(c, routesSelector(config, c), timeout, now),
      ]);
      const n = pickNodeProbes(c, selector, candidates, usedPods(e));
      return { e, n, r, t: withoutPods(t, usedPods(e)) };
    }),
  );
  const endpoints = new Map(all.map((c, i) => [c.name, found[i]!.e]));
  const nodeProbes = new Map(all.map((c, i) => [c.name, found[i]!.n]));
  const routes = found.flatMap((f) => (f.r ? [f.r] : []));
  const targets = new Map(all.map((c, i) => [c.name, found[i]!.t]));
  const primary = clusters.primary;
  const plan: Plan = {
    scope: { kind: 'matrix' },
    pairs: clusters.remotes.map((r) => [primary.name, r.name] as const),
    sides: [...all],
    directions: [
      ...clusters.remotes.map((r) => ({
        from: r,
        targets: targets.get(primary.name)!.targets,
        services: targets.get(primary.name)!.services ?? [],
      })),
      ...clusters.remotes.map((r) => ({ from: primary, targets: targets.get(r.name)!.targets })),
    ],
    endpoints,
    nodeProbes,
    routes,
    ...collect(targets),
  };
  const checkedAt = new Date(now).toISOString();
  const report = await execute(deps, plan, started, checkedAt);
  if (deps.history) {
    const run = vpnRunOf(report);
    const previous = await recordVpnRun(deps.history, now, run);
    if (previous) report.comparison = compare(previous, run, config.vpn.thresholds.rttChangePercent);
  }
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

/**
 * Where an address belongs: a configured pod or service CIDR, else a pod that has it right now. `problem`:
 * the address is in a CIDR of `cluster` but whether a pod has it could not be looked up.
 */
async function locate(
  deps: VpnDeps,
  ip: string,
  now: number,
): Promise<{ cluster: Cluster; target: ProbeTarget; problem?: string } | { refusal: string }> {
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
    const { pod, failure } = lookups[0]!;
    return {
      cluster: byCidr,
      target: addressTarget(byCidr, ip, containingCidr(cidrsOf(byCidr), ip), pod),
      ...(failure ? { problem: failure } : {}),
    };
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
  let fixed: Targets | undefined;
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
    fixed = { targets: [where.target], skipped: [], ...(where.problem ? { problem: where.problem } : {}) };
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
  const targets: Targets = discovered ? withoutPods(discovered, usedPods(endpoints.get(to.name))) : fixed!;
  const plan: Plan = {
    scope: { kind: 'ping', from: from.name, target: fixed ? fixed.targets[0]!.ip : to.name },
    pairs: [[from.name, to.name]],
    sides: ends,
    directions: [{ from, targets: targets.targets }],
    endpoints,
    ...collect(new Map([[to.name, targets]])),
  };
  const report = await execute(deps, plan, started, new Date(now).toISOString());
  return { ok: true, report };
}
