import type { Finding, Health } from '../istio/report.ts';
import type { PilotAnswer } from './pilot.ts';
import type { ProxySync } from './syncz.ts';

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

export interface ProxiesReport {
  checkedAt: string;
  cluster?: string;
  health: Health;
  /** The primary whose pilots were asked. */
  primary: string;
  pilots: PilotAnswer[];
  /** Why pilot could not be asked at all. */
  failure?: string;
  clusters: ClusterProxies[];
  /** Proxies pilot knows that no configured cluster has a pod for (e.g. a cluster not in meshops' config). */
  elsewhere: ProxySync[];
  counts: ProxyCounts;
  findings: Finding[];
  top: string[];
  /** One line, as `/mesh status` shows it. */
  summary: string;
  ms: number;
}
