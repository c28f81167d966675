import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load.ts';
import type { MeshConfig } from '../../../src/config/schema.ts';
import { type Clusters, createClusters } from '../../../src/kube/registry.ts';
import { runStatusCheck } from '../../../src/mesh/istio/check.ts';
import type { StatusReport } from '../../../src/mesh/istio/report.ts';
import {
  type ScenarioSource,
  type SimMesh,
  type SimMeshOptions,
  startSimMesh,
} from '../../../src/sim/index.ts';
import { adminClustersYaml, simClustersYaml } from '../../helpers/kube.ts';

/** A simulated mesh plus a meshops config pointing at it, for checks run straight against the clusters. */
export interface StatusSim {
  mesh: SimMesh;
  dir: string;
  configYaml: string;
  config: MeshConfig;
  clusters: Clusters;
  /** The same clusters through an administrator's kubeconfig: test set-up outside meshops' RBAC. */
  admin: Clusters;
  check(cluster?: string): Promise<StatusReport>;
  close(): Promise<void>;
}

export function configFor(mesh: SimMesh, extra = '', options: { remoteSecrets?: boolean } = {}): string {
  return `${simClustersYaml(mesh, options)}${extra}`;
}

export async function startStatusSim(
  options: {
    scenario?: ScenarioSource;
    extraConfig?: string;
    /** Configure clusters[].remoteSecret with the scenario's secret names (true). */
    remoteSecrets?: boolean;
    /** RBAC for meshops' token other than the shipped files (see SimMeshOptions.rbac). */
    rbac?: SimMeshOptions['rbac'];
    /** How long proxies take to reconnect after a pilot restart (SimMeshOptions.xdsReconnectMs). */
    xdsReconnectMs?: number;
  } = {},
): Promise<StatusSim> {
  const dir = mkdtempSync(join(tmpdir(), 'meshops-status-'));
  const mesh = await startSimMesh({
    dir,
    ...(options.scenario ? { scenario: options.scenario } : {}),
    ...(options.rbac ? { rbac: options.rbac } : {}),
    ...(options.xdsReconnectMs !== undefined ? { xdsReconnectMs: options.xdsReconnectMs } : {}),
  });
  const configYaml = configFor(mesh, options.extraConfig, { remoteSecrets: options.remoteSecrets ?? true });
  const config = parseConfig(configYaml, join(dir, 'meshops.yaml'), dir);
  const clusters = createClusters(config);
  const admin = createClusters(parseConfig(adminClustersYaml(mesh), join(dir, 'admin.yaml'), dir));
  return {
    mesh,
    dir,
    configYaml,
    config,
    clusters,
    admin,
    check: (cluster) => runStatusCheck({ config, clusters }, cluster === undefined ? {} : { cluster }),
    close: () => mesh.close(),
  };
}
