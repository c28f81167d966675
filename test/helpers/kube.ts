import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { type Cluster, createCluster } from '../../src/kube/cluster.ts';
import type { SimMesh } from '../../src/sim/index.ts';
import { kubeconfigYaml } from '../../src/sim/server/kubeconfig.ts';

/**
 * The test's own view of a simulated cluster, as an SRE's kubectl would have it (an administrator, outside
 * meshops' RBAC): one KubeConfig per cluster, loaded once, from which each test world makes the API clients
 * it reads and edits with.
 */
export function kubeConfigs(sim: SimMesh): (cluster: string) => KubeConfig {
  const loaded = new Map<string, KubeConfig>();
  return (cluster) => {
    let kc = loaded.get(cluster);
    if (!kc) {
      kc = new KubeConfig();
      kc.loadFromFile(sim.adminKubeconfigPath(cluster));
      loaded.set(cluster, kc);
    }
    return kc;
  };
}

/**
 * A remote's `clusters[].remoteSecret`, as an SRE configures it after `kubectl get secret -n istio-system -l
 * istio/multiCluster=true`: the name of the scenario's secret for that remote (the seed's iriscluster), which
 * is also the name the shipped RBAC lets meshops read.
 */
export function remoteSecretOf(sim: SimMesh, cluster: string): string | undefined {
  return sim.scenario.clusters.flatMap((c) => c.remoteSecrets).find((s) => s.cluster === cluster)?.name;
}

/** The `clusters:` part of a meshops config for a simulation, kubeconfigs by absolute path. */
export function simClustersYaml(sim: SimMesh, options: { remoteSecrets?: boolean } = {}): string {
  const lines = [...sim.clusters.values()].map((c) => {
    const secret = options.remoteSecrets === false ? undefined : remoteSecretOf(sim, c.name);
    return `  - { name: ${c.name}, role: ${c.role}, kubeconfig: ${sim.kubeconfigPath(c.name)}${secret ? `, remoteSecret: ${secret}` : ''} }`;
  });
  return `clusters:\n${lines.join('\n')}\n`;
}

/** The `clusters:` part of a meshops config for the seed simulation: icp the primary, iks the remote. */
export const seedClustersYaml = (sim: SimMesh) => simClustersYaml(sim);

/** The same `clusters:` through the administrators' kubeconfigs, for test set-up made with meshops' own clients. */
export function adminClustersYaml(sim: SimMesh): string {
  const lines = [...sim.clusters.values()].map(
    (c) => `  - { name: ${c.name}, role: ${c.role}, kubeconfig: ${sim.adminKubeconfigPath(c.name)} }`,
  );
  return `clusters:\n${lines.join('\n')}\n`;
}

/**
 * A meshops Cluster talking to a bare HTTPS server that stands in for an API server: the server listens on
 * loopback and a kubeconfig with its CA and a token is written for it.
 */
export async function clusterFor(
  server: HttpsServer,
  caCert: string,
  token = 't',
  name = 'api',
): Promise<{ cluster: Cluster; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'meshops-api-')), 'kubeconfig');
  writeFileSync(
    kubeconfig,
    kubeconfigYaml({ cluster: name, server: `https://127.0.0.1:${port}`, caCert, token, user: 'meshops' }),
  );
  const cluster = createCluster({ name, role: 'primary', kubeconfig, podCidrs: [], serviceCidrs: [] }, 5000);
  return {
    cluster,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
