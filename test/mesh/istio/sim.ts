import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load.ts';
import type { MeshConfig } from '../../../src/config/schema.ts';
import { type Clusters, createClusters } from '../../../src/kube/registry.ts';
import { runStatusCheck } from '../../../src/mesh/istio/check.ts';
import type { StatusReport } from '../../../src/mesh/istio/report.ts';
import { type ScenarioSource, type SimMesh, startSimMesh } from '../../../src/sim/index.ts';

/** A simulated mesh plus a meshops config pointing at it, for checks run straight against the clusters. */
export interface StatusSim {
  mesh: SimMesh;
  dir: string;
  configYaml: string;
  config: MeshConfig;
  clusters: Clusters;
  check(cluster?: string): Promise<StatusReport>;
  close(): Promise<void>;
}

export function configFor(mesh: SimMesh, extra = ''): string {
  const clusters = [...mesh.clusters.values()]
    .map((c) => `  - { name: ${c.name}, role: ${c.role}, kubeconfig: ./${c.name}.kubeconfig }`)
    .join('\n');
  return `clusters:\n${clusters}\n${extra}`;
}

export async function startStatusSim(
  options: { scenario?: ScenarioSource; extraConfig?: string } = {},
): Promise<StatusSim> {
  const dir = mkdtempSync(join(tmpdir(), 'meshops-status-'));
  const mesh = await startSimMesh({ dir, ...(options.scenario ? { scenario: options.scenario } : {}) });
  const configYaml = configFor(mesh, options.extraConfig);
  const config = parseConfig(configYaml, join(dir, 'meshops.yaml'), dir);
  const clusters = createClusters(config);
  return {
    mesh,
    dir,
    configYaml,
    config,
    clusters,
    check: (cluster) => runStatusCheck({ config, clusters }, cluster === undefined ? {} : { cluster }),
    close: () => mesh.close(),
  };
}
