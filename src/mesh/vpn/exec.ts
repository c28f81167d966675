import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { probeStatus } from './analyze.ts';
import type { FoundPod } from './gather.ts';
import {
  fallbackSizes,
  judgeSizes,
  MTU_TRIES,
  type MtuOutcome,
  mtuArgv,
  readSize,
  type SizeResult,
} from './mtu.ts';
import { parsePing, pingArgv, probeTimeLimitMs } from './ping.ts';
import type {
  MtuResult,
  PodRef,
  PortOutcome,
  PortResult,
  PortSpec,
  ProbeResult,
  ProbeTarget,
  TunnelSide,
  VpnSettings,
} from './report.ts';
import { readTunnel, TUNNEL_COMMANDS, type TunnelReading, type TunnelTool } from './strongswan.ts';
import { ncArgv, ncTimeLimitMs, parseNc } from './tcp.ts';
import { espTraffic, type PeerCidrs, peerTunnel } from './tunnel.ts';

/** The exec side of the check: argv arrays of validated values, each under its own time bound. */

export async function runProbe(
  cluster: Cluster,
  probe: PodRef,
  target: ProbeTarget,
  settings: VpnSettings,
  onOpen?: () => void,
): Promise<ProbeResult> {
  const key = `${cluster.name}>${target.cluster}/${target.label}`;
  let outcome: ProbeResult['outcome'];
  try {
    const result = await cluster.exec({
      namespace: probe.namespace,
      pod: probe.name,
      ...(probe.container ? { container: probe.container } : {}),
      command: pingArgv(target.ip, settings.count, settings.timeoutMs),
      timeoutMs: probeTimeLimitMs(settings.count, settings.timeoutMs),
      ...(onOpen ? { onOpen } : {}),
    });
    outcome = parsePing(result);
  } catch (err) {
    const failure = classifyKubeError(err);
    outcome = { kind: 'exec-failed', reason: failure.reason, forbidden: failure.kind === 'forbidden' };
  }
  return {
    key,
    from: cluster.name,
    probe,
    target,
    outcome,
    status: probeStatus(outcome, settings.thresholds),
  };
}

/** The path-MTU probe of one direction: the expected size first, smaller sizes at once only when it is lost. */
export async function runMtuProbe(
  cluster: Cluster,
  probe: PodRef,
  target: ProbeTarget,
  expected: number,
  timeoutMs: number,
  onOpen?: () => void,
): Promise<MtuResult> {
  const base = {
    key: `${cluster.name}>${target.cluster}`,
    from: cluster.name,
    to: target.cluster,
    probe,
    target,
    expected,
  };
  const sizes: SizeResult[] = [];
  const tryAll = async (list: readonly number[]): Promise<MtuOutcome | undefined> => {
    const reads = await Promise.all(
      list.map(async (bytes) => {
        try {
          const result = await cluster.exec({
            namespace: probe.namespace,
            pod: probe.name,
            ...(probe.container ? { container: probe.container } : {}),
            command: mtuArgv(target.ip, bytes, timeoutMs),
            timeoutMs: probeTimeLimitMs(MTU_TRIES, timeoutMs),
            ...(onOpen ? { onOpen } : {}),
          });
          return { bytes, read: readSize(result) };
        } catch (err) {
          const failure = classifyKubeError(err);
          return { bytes, read: { failed: failure.reason, forbidden: failure.kind === 'forbidden' } };
        }
      }),
    );
    for (const { bytes, read } of reads) {
      if ('noDf' in read) return { kind: 'no-df', reason: read.noDf };
      if ('failed' in read)
        return { kind: 'failed', reason: read.failed, forbidden: read.forbidden === true };
      sizes.push({ bytes, crossed: read.crossed });
    }
    return undefined;
  };
  const first = (await tryAll([expected])) ?? judgeSizes(expected, sizes);
  if (first.kind !== 'unreachable') return { ...base, sizes, outcome: first };
  const second = (await tryAll(fallbackSizes(expected))) ?? judgeSizes(expected, sizes);
  return { ...base, sizes: sizes.sort((a, b) => b.bytes - a.bytes), outcome: second };
}

/** One port of one control-plane target, with netcat's zero-I/O check under its own time bound. */
export async function runPortProbe(
  cluster: Cluster,
  probe: PodRef,
  target: ProbeTarget,
  port: PortSpec,
  timeoutMs: number,
): Promise<PortResult> {
  const key = `${cluster.name}>${target.cluster}/${target.label}:${port.port}/${port.protocol.toLowerCase()}`;
  let outcome: PortOutcome;
  try {
    const result = await cluster.exec({
      namespace: probe.namespace,
      pod: probe.name,
      ...(probe.container ? { container: probe.container } : {}),
      command: ncArgv(target.ip, port, timeoutMs),
      timeoutMs: ncTimeLimitMs(timeoutMs),
    });
    outcome = parseNc(result, port.protocol);
  } catch (err) {
    const failure = classifyKubeError(err);
    outcome = { kind: 'exec-failed', reason: failure.reason, forbidden: failure.kind === 'forbidden' };
  }
  return { key, from: cluster.name, probe, target, port, outcome };
}

/** `ipsec statusall` first; a pod that only has swanctl (charon with vici) answers the second. */
const TOOLS: readonly TunnelTool[] = ['ipsec', 'swanctl'];

/**
 * Which front end each strongSwan pod answered with, so later checks in this process run one exec instead
 * of two. A pod whose image changed answers no-tool to the remembered one, and the other is asked next.
 */
const tunnelTools = new Map<string, TunnelTool>();
const REMEMBERED_PODS = 1000;
const toolKey = (cluster: Cluster, pod: PodRef) =>
  JSON.stringify([cluster.name, pod.namespace, pod.name, pod.container ?? '']);

function rememberTool(key: string, tool: TunnelTool | undefined): void {
  tunnelTools.delete(key);
  if (!tool) return;
  tunnelTools.set(key, tool);
  // Oldest first: a Map iterates in insertion order.
  if (tunnelTools.size > REMEMBERED_PODS) tunnelTools.delete(tunnelTools.keys().next().value!);
}

export interface SideContext {
  own: PeerCidrs;
  peers: readonly PeerCidrs[];
  /** The cluster has a single tunnel peer in the mesh, so every SA is towards it. */
  onlyPeer: boolean;
  timeoutMs: number;
}

function execIn(cluster: Cluster, pod: PodRef, timeoutMs: number) {
  return (argv: readonly string[]) =>
    cluster.exec({
      namespace: pod.namespace,
      pod: pod.name,
      ...(pod.container ? { container: pod.container } : {}),
      command: argv,
      timeoutMs,
    });
}

export async function readTunnelSide(
  cluster: Cluster,
  found: FoundPod,
  ctx: SideContext,
): Promise<TunnelSide> {
  if (!found.ok) {
    return {
      cluster: cluster.name,
      ok: false,
      kind: found.kind === 'api' ? 'failed' : found.kind,
      problem: found.problem,
      ...(found.pod ? { pod: found.pod } : {}),
    };
  }
  const pod = found.pod;
  const run = execIn(cluster, pod, ctx.timeoutMs);
  const key = toolKey(cluster, pod);
  const known = tunnelTools.get(key);
  // A pod has one of the two front ends. Once known it is asked alone; before that both are asked at once:
  // a second round would push this first read of the SA counters past the first probes, leaving too short a
  // window for ESP to move before the second.
  const order = known ? [known, ...TOOLS.filter((t) => t !== known)] : TOOLS;
  const asked = new Map((known ? [known] : TOOLS).map((tool) => [tool, run(TUNNEL_COMMANDS[tool])]));
  for (const answer of asked.values()) answer.catch(() => {});
  let reading: TunnelReading | undefined;
  let argv: readonly string[] = [];
  try {
    for (const tool of order) {
      argv = TUNNEL_COMMANDS[tool];
      reading = readTunnel(tool, await (asked.get(tool) ?? run(argv)));
      if (reading.kind === 'denied') {
        // Non-root strongSwan images document `sudo ipsec status`; without sudo the denial stands.
        const retry = readTunnel(tool, await run(['sudo', ...TUNNEL_COMMANDS[tool]]), true);
        if (retry.kind !== 'no-tool') [reading, argv] = [retry, ['sudo', ...TUNNEL_COMMANDS[tool]]];
      }
      if (reading.kind !== 'no-tool') break;
    }
  } catch (err) {
    const failure = classifyKubeError(err, ctx.timeoutMs);
    return {
      cluster: cluster.name,
      ok: false,
      kind: failure.kind === 'forbidden' ? 'forbidden' : 'failed',
      problem: failure.reason,
      pod,
    };
  }
  rememberTool(key, reading?.kind === 'no-tool' ? undefined : reading?.tool);
  switch (reading?.kind) {
    case 'listing':
      return {
        cluster: cluster.name,
        ok: true,
        pod,
        tool: reading.tool,
        argv: [...argv],
        sas: reading.sas,
        conns: reading.conns,
        peers: ctx.peers.map((peer) => peerTunnel(reading.sas, reading.conns, ctx.own, peer, ctx.onlyPeer)),
      };
    case 'unparsed':
      return {
        cluster: cluster.name,
        ok: false,
        kind: 'unparsed',
        problem: reading.reason,
        raw: reading.raw,
        pod,
      };
    case 'no-daemon':
    case 'denied':
      return { cluster: cluster.name, ok: false, kind: reading.kind, problem: reading.reason, pod };
    default:
      return {
        cluster: cluster.name,
        ok: false,
        kind: 'no-tool',
        problem: `neither \`${TUNNEL_COMMANDS.ipsec.join(' ')}\` nor \`${TUNNEL_COMMANDS.swanctl.join(' ')}\` exists in ${pod.namespace}/${pod.name}`,
        pod,
      };
  }
}

/**
 * The second read of the SA counters, after the probes: the same command in the same pod. Each peer gets
 * the traffic its CHILD SAs carried in between; a read that fails leaves the side as it was.
 */
export async function rereadCounters(
  cluster: Cluster,
  side: TunnelSide,
  ctx: SideContext,
  readAt: number,
): Promise<TunnelSide> {
  if (!side.ok || !side.peers.some((p) => p.esp)) return side;
  try {
    const result = await execIn(cluster, side.pod, ctx.timeoutMs)(side.argv);
    const seconds = (performance.now() - readAt) / 1000;
    const reading = readTunnel(side.tool, result, side.argv[0] === 'sudo');
    if (reading.kind !== 'listing') return side;
    return {
      ...side,
      peers: side.peers.map((before) => {
        const peer = ctx.peers.find((p) => p.name === before.peer);
        if (!peer) return before;
        const after = peerTunnel(reading.sas, reading.conns, ctx.own, peer, ctx.onlyPeer);
        const traffic = espTraffic(before, after, seconds);
        return traffic ? { ...before, traffic } : before;
      }),
    };
  } catch {
    return side;
  }
}
