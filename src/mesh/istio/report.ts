import type { IstioProfile } from '../../config/schema.ts';
import type { KubeFailureKind } from '../../kube/errors.ts';
import type { Finding, Health } from '../health.ts';
import type { DriftFinding } from './drift.ts';
import type { PodState } from './pod-status.ts';
import type { ProxySync } from './syncz.ts';

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
  | 'restart'
  | 'proxy-sync'
  | 'certificate'
  | 'version'
  | 'workload';

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
  restartKind?: 'deployment' | 'daemonset' | 'statefulset';
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
  /** Pods the injector never touches by design: hostNetwork pods and the configured VPN pods. */
  notInjected: number;
  /** Every pod lacking a ready sidecar, worst first (unready, then missing; most restarts first). */
  problems: SidecarProblem[];
}

export interface RemoteSecretReport {
  remote: string;
  /** The secret names read on the primary, in order. */
  looked: string[];
  /** The name came from `clusters[].remoteSecret`. */
  configured?: true;
  /** The matching secret on the primary; absent when there is none. */
  secret?: string;
  /** The secret lacks the istio/multiCluster=true label, so pilot ignores it. */
  unlabelled?: true;
  /** Its kubeconfig points at other API servers (none when it holds no kubeconfig). */
  server?: { expected: string; found: string[] };
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
  /** Istio image tags: each component's, and the sidecars' of the injected namespaces with their counts. */
  versions?: ClusterVersions;
}

export interface ClusterVersions {
  controlPlane: { component: string; tags: string[] }[];
  proxies: { tag: string; pods: number; example: string }[];
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
  /** Pilot's view of the proxies in scope, as one line and its counts (absent without a primary). */
  proxies?: {
    summary: string;
    counts: ProxyCounts /** Ids (`pod.namespace`) of the STALE proxies. */;
    stale: string[];
  };
  ms: number;
}

/** A pod in an injected namespace with a running sidecar that no pilot has a connection from. */
export interface UnknownProxy {
  namespace: string;
  pod: string;
  /** The Deployment (or other owner) the pod belongs to. */
  workload: string;
}

export interface ClusterProxies {
  name: string;
  role: 'primary' | 'remote';
  /** Proxies pilot knows in this cluster, by id. */
  proxies: ProxySync[];
  unknown: UnknownProxy[];
  /** Why the cluster's pods could not be listed (the proxies pilot knows are still shown). */
  failure?: string;
}

export interface ProxyCounts {
  total: number;
  synced: number;
  stale: number;
  notSent: number;
  unknown: number;
}
