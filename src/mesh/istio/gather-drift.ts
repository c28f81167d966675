import type { MeshConfig } from '../../config/schema.ts';
import type { Cluster } from '../../kube/cluster.ts';
import {
  type DriftFinding,
  type DriftProblem,
  detectDrift,
  type PrimaryControlPlane,
  primaryControlPlane,
  type RemoteControlPlane,
  remoteControlPlane,
} from './drift.ts';
import type { PodFacts } from './facts.ts';
import { gatherCluster } from './gather.ts';
import { istioSetup } from './profiles.ts';
import { clusterVersions, referenceTag, remoteIstioVersion } from './versions.ts';

/**
 * Reads both sides from the clusters and compares them: what the repair feature calls before and after
 * it changes anything.
 */
export async function gatherDrift(
  config: Pick<MeshConfig, 'istio' | 'checks'>,
  primary: Cluster,
  remote: Cluster,
): Promise<{
  findings: DriftFinding[];
  primary: PrimaryControlPlane;
  remote: RemoteControlPlane;
  problems: DriftProblem[];
  /** The remote's injected pods as read (empty when they could not be listed: a problem says so). */
  workloads: PodFacts[];
}> {
  const options = { timeoutMs: config.checks.clusterTimeout };
  const [p, r] = await Promise.all([
    gatherCluster(primary, istioSetup(config, primary.config), options),
    gatherCluster(remote, istioSetup(config, remote.config), options),
  ]);
  const live = primaryControlPlane(p);
  const version = remoteIstioVersion(clusterVersions(r), referenceTag(p, clusterVersions(p)));
  const given = remoteControlPlane(r, version);
  return {
    findings: detectDrift(given.state, live.state),
    primary: live.state,
    remote: given.state,
    problems: [...live.problems, ...given.problems],
    workloads: r.workloads.ok ? r.workloads.value : [],
  };
}
