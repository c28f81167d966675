import type { Finding, Health } from '../health.ts';
import type { MtuOutcome, SizeResult } from './mtu.ts';
import type { PingOutcome } from './ping.ts';
import type { ConnConfig, EspCounters, IkeSa, TunnelTool } from './strongswan.ts';

/**
 * The result of `/mesh vpn` or `/mesh ping` as plain JSON: rendered for Slack by src/slack/render/vpn.ts,
 * kept in Redis for the next run's comparison, and reused by the scheduled health posts.
 */

/** A control-plane port a remote's sidecars open across the VPN. */
export interface PortSpec {
  port: number;
  protocol: 'TCP' | 'UDP';
}

export type PortOutcome =
  | { kind: 'open' }
  | { kind: 'refused' }
  | { kind: 'timeout' }
  | { kind: 'unreachable'; reason: string }
  /** UDP: sent, and no refusal came back in time; not a proof of delivery. */
  | { kind: 'udp-sent' }
  | { kind: 'no-tool'; reason: string }
  | { kind: 'exec-failed'; reason: string; forbidden: boolean }
  | { kind: 'unparsed'; reason: string; raw: string };

/** not-checked: meshops could not look (no probe pod, exec forbidden, output it could not parse). */
export type VpnArea = 'tunnel' | 'reachability' | 'subnets' | 'not-checked' | 'skipped';

export interface PodRef {
  cluster: string;
  namespace: string;
  name: string;
  ip?: string;
  container?: string;
  /** The node it runs on, for probes from ordinary pods. */
  node?: string;
}

/** One side's view of its tunnel to one peer. */
export type SideState = 'up' | 'no-child' | 'connecting' | 'no-sa';

export interface PeerTunnel {
  peer: string;
  state: SideState;
  /** The connection (conn name) the judged SA belongs to. */
  conn?: string;
  /** e.g. "k8s-conn[1] ESTABLISHED, CHILD k8s-conn{1} INSTALLED". */
  detail: string;
  /** The peer's pod and service CIDRs the installed CHILD SA does not carry (remote.subnet gaps). */
  missingRemote: string[];
  /** This cluster's own CIDRs the installed CHILD SA does not carry (local.subnet gaps). */
  missingLocal: string[];
  /** The installed CHILD SAs' ESP counters, summed, with the SAs they came from (`name{id}`). */
  esp?: { children: string[]; counters: EspCounters };
  /** What the counters moved between the read before the probes and the one after them. */
  traffic?: EspTraffic;
}

/** ESP bytes one side encrypted (out) and decrypted (in) towards one peer over `seconds`. */
export interface EspTraffic {
  seconds: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
}

/** Why a cluster's tunnel state could not be read. */
export type TunnelProblem =
  | 'no-pod'
  | 'pod-not-ready'
  | 'forbidden'
  | 'failed'
  | 'no-tool'
  | 'no-daemon'
  | 'denied'
  | 'unparsed';

export type TunnelSide =
  | {
      cluster: string;
      ok: true;
      pod: PodRef;
      tool: TunnelTool;
      /** The command that read it (with `sudo` when the exec user needed it), for the second read. */
      argv: string[];
      sas: IkeSa[];
      /** Configured connections, when the tool lists them (`ipsec statusall`). */
      conns: ConnConfig[];
      peers: PeerTunnel[];
    }
  | { cluster: string; ok: false; kind: TunnelProblem; pod?: PodRef; problem: string; raw?: string };

export interface ProbeTarget {
  cluster: string;
  ip: string;
  /** What the address is: a control-plane component ("pilot"), an app ("reviews-v3"), a pod or an address. */
  label: string;
  /** The pod that has the address; absent for a `/mesh ping` address no pod had when it was looked up. */
  pod?: { namespace: string; name: string };
  /** The configured CIDR of `cluster` that holds the address, if any. */
  cidr?: string;
  /** The node of the target pod. */
  node?: string;
}

/** The routes DaemonSet of one cluster (the IBM chart's `<release>-strongswan-routes`): desired vs ready. */
export type RoutesState =
  | {
      cluster: string;
      ok: true;
      daemonSet: string;
      desired: number;
      ready: number;
      /** Nodes whose routes pod is not ready; `unscheduled` more are desired but have no pod at all. */
      nodesWithout: string[];
      unscheduled: number;
    }
  | { cluster: string; ok: false; problem: string };

export type ProbeStatus = 'ok' | 'slow' | 'loss' | 'lost' | 'error' | 'unparsed';

export interface ProbeResult {
  /** `from>to/label`, stable across pod restarts; compared with the previous run. */
  key: string;
  from: string;
  probe: PodRef;
  target: ProbeTarget;
  outcome: PingOutcome | { kind: 'exec-failed'; reason: string; forbidden: boolean };
  status: ProbeStatus;
}

/** The largest DF packet that crosses from one cluster to another, against the expected inner MTU. */
export interface MtuResult {
  /** `from>to`. */
  key: string;
  from: string;
  to: string;
  probe: PodRef;
  target: ProbeTarget;
  /** vpn.mtu. */
  expected: number;
  /** Each packet size tried (bytes on the wire, IP header included) and whether it crossed. */
  sizes: SizeResult[];
  outcome: MtuOutcome;
}

/** One control-plane port tried from a remote's app pod. */
export interface PortResult {
  /** `from>to/label:port/protocol`. */
  key: string;
  from: string;
  probe: PodRef;
  target: ProbeTarget;
  port: PortSpec;
  outcome: PortOutcome;
}

export interface RttChange {
  key: string;
  beforeMs: number;
  afterMs: number;
  percent: number;
}

export interface Comparison {
  previousAt: string;
  newlyFailing: string[];
  recovered: string[];
  rttUp: RttChange[];
  rttDown: RttChange[];
}

export interface VpnSettings {
  count: number;
  timeoutMs: number;
  concurrency: number;
  thresholds: { lossPercent: number; rttWarnMs: number; rttChangePercent: number };
}

export interface VpnReport {
  scope: { kind: 'matrix' } | { kind: 'ping'; from: string; target: string };
  checkedAt: string;
  durationMs: number;
  verdict: Health;
  summary: string;
  settings: VpnSettings;
  /** The tunnels judged, as cluster pairs (the primary with each remote, or the two ends of a ping). */
  pairs: [string, string][];
  tunnels: TunnelSide[];
  probes: ProbeResult[];
  /** Pings from one ordinary pod per node (vpn.nodeProbe), each naming its node. */
  nodeProbes: ProbeResult[];
  mtu: MtuResult[];
  ports: PortResult[];
  routes: RoutesState[];
  findings: Finding<VpnArea>[];
  /** Only for the full matrix, and only when an earlier run was kept. */
  comparison?: Comparison;
}
