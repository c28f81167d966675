import type { Health } from '../health.ts';
import type { PilotAnswer } from '../istio/pilot.ts';
import type { ClusterProxies, ProxyCounts, StatusFinding } from '../istio/report.ts';
import type { ProxySync } from '../istio/syncz.ts';

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
  findings: StatusFinding[];
  top: string[];
  /** One line, as `/mesh status` shows it. */
  summary: string;
  ms: number;
}
