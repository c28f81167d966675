import type { IstioProfile } from '../../config/schema.ts';
import type { KubeFailureKind } from '../../kube/errors.ts';
import type { Finding, Health } from '../health.ts';
import type { DriftFinding } from './drift.ts';
import type { PodState } from './pod-status.ts';

/**
 * The typed, JSON-serializable result of a status check. Scheduled health posts store and compare it,
 * so every field is plain data and every finding carries a stable id.
 */

/** What a status finding is about. */
export type StatusArea =
  | 'reachability'
  | 'component'
  | 'drift'
  | 'control-plane-config'
  | 'remote-secret'
  | 'sidecar'
  | 'not-checked'
  | 'restart';

/** A status finding always names its cluster: `iks/drift/pilot`, `icp/component/telemetry`, `iks/sidecars/unready`. */
export type StatusFinding = Finding<StatusArea> & { cluster: string };

export type ComponentHealth = 'ok' | 'degraded' | 'down' | 'missing' | 'unknown';

export interface ComponentReport {
  name: string;
  selector: string;
  optional: boolean;
  health: ComponentHealth;
  /** Pods serving (or finished Job pods) out of the pods not being deleted. */
  ready: number;
  total: number;
  pods: PodState[];
  /** Why the pods could not be listed, when health is unknown. */
  reason?: string;
}

export interface SidecarProblem {
  namespace: string;
  pod: string;
  workload: string;
  problem: 'missing' | 'unready';
  /** The pod's kubectl STATUS and READY, for the line in the report. */
  status: string;
  ready: string;
  restarts: number;
}

export interface DataPlaneReport {
  /** Namespaces labelled for injection, with the label that put them there. */
  namespaces: { name: string; injection: string }[];
  /** Pods expected to carry a sidecar (running, not opted out). */
  pods: number;
  withReadySidecar: number;
  optedOut: number;
  /** Every pod lacking a ready sidecar, worst first (unready, then missing; most restarts first). */
  problems: SidecarProblem[];
}

export interface RemoteSecretReport {
  remote: string;
  /** The matching secret on the primary; absent when there is none. */
  secret?: string;
}

export interface ClusterReport {
  name: string;
  role: 'primary' | 'remote';
  profile: IstioProfile;
  namespace: string;
  reachable: boolean;
  failure?: { kind: KubeFailureKind; reason: string };
  health: Health;
  ms: number;
  components: ComponentReport[];
  /** Absent when the namespaces or their pods could not be listed (a not-checked finding says why). */
  dataPlane?: DataPlaneReport;
  /** Primary only: one entry per remote in the config (or the one asked about). */
  remoteSecrets?: RemoteSecretReport[];
  /** Remote only: every place an address of the primary no longer matches. */
  drift?: DriftFinding[];
}

export interface StatusReport {
  checkedAt: string;
  /** The cluster asked about, or undefined for the whole mesh. */
  cluster?: string;
  health: Health;
  /** The report in one line: what matters most, or what is fine. */
  summary: string;
  clusters: ClusterReport[];
  /** Most important first; causes before what they explain. */
  findings: StatusFinding[];
  /** Ids of the one to three findings that matter most (none when healthy). */
  top: string[];
  ms: number;
}
