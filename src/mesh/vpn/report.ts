import type { Finding, Health } from '../health.ts';
import type { PingOutcome } from './ping.ts';
import type { ConnConfig, IkeSa, TunnelTool } from './strongswan.ts';

/**
 * The result of `/mesh vpn` or `/mesh ping` as plain JSON: rendered for Slack by render.ts, kept in Redis
 * for the next run's comparison, and reused by the scheduled health posts.
 */

/** not-checked: meshops could not look (no probe pod, exec forbidden, output it could not parse). */
export type VpnArea = 'tunnel' | 'reachability' | 'subnets' | 'not-checked' | 'skipped';

export interface PodRef {
  cluster: string;
  namespace: string;
  name: string;
  ip?: string;
  container?: string;
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
  pod?: { namespace: string; name: string };
  /** The configured CIDR of `cluster` that holds the address, if any. */
  cidr?: string;
}

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
  findings: Finding<VpnArea>[];
  /** Only for the full matrix, and only when an earlier run was kept. */
  comparison?: Comparison;
}
