import type { IstioProfile, MeshConfig } from '../../config/schema.ts';
import type { Clusters } from '../../kube/registry.ts';
import { readSyncz, type SynczReading } from '../istio/pilot.ts';
import { istioSetup } from '../istio/profiles.ts';
import { assessProxies } from '../istio/proxy-sync.ts';
import type { StatusFinding } from '../istio/report.ts';
import { listSidecars, type SidecarPods } from '../istio/sidecars.ts';
import { meshHealth, resolveFindings, topFindings } from '../istio/verdict.ts';
import type { ProxiesReport } from './report.ts';

export interface ProxiesCheckDeps {
  config: Pick<MeshConfig, 'istio' | 'checks'>;
  clusters: Clusters;
  now?: () => number;
}

export function judgeProxies(
  primary: string,
  profile: IstioProfile,
  reading: SynczReading,
  pods: readonly SidecarPods[],
  target?: string,
): Omit<ProxiesReport, 'ms' | 'checkedAt'> {
  const { drafts, ...assessed } = assessProxies(primary, profile, reading, pods, target);
  const findings: StatusFinding[] = resolveFindings(
    drafts,
    assessed.clusters.map((c) => c.name),
  );
  return {
    ...(target === undefined ? {} : { cluster: target }),
    health: meshHealth(findings, []),
    primary,
    pilots: reading.pilots,
    ...(reading.failure ? { failure: reading.failure } : {}),
    ...assessed,
    findings,
    top: topFindings(findings),
  };
}

/**
 * `/mesh proxies [cluster]`: pilot's list from the primary (one exec per pilot pod) and, at the same time,
 * each cluster's pods (one list of namespaces and one of pods per cluster).
 */
export async function runProxiesCheck(
  deps: ProxiesCheckDeps,
  options: { cluster?: string } = {},
): Promise<ProxiesReport> {
  const started = performance.now();
  const now = (deps.now ?? Date.now)();
  const { clusters, config } = deps;
  if (options.cluster !== undefined && !clusters.get(options.cluster))
    throw new Error(`unknown cluster "${options.cluster}"; configured: ${clusters.names().join(', ')}`);
  const primary = clusters.primary;
  const setup = istioSetup(config, primary.config);
  const timeoutMs = config.checks.clusterTimeout;
  const [reading, pods] = await Promise.all([
    readSyncz(primary, setup, timeoutMs),
    // Every cluster's pods place pilot's proxies, even when one cluster is asked about.
    Promise.all(clusters.all.map((c) => listSidecars(c, timeoutMs))),
  ]);
  return {
    checkedAt: new Date(now).toISOString(),
    ...judgeProxies(primary.name, setup.profile, reading, pods, options.cluster),
    ms: performance.now() - started,
  };
}
