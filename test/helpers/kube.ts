import { KubeConfig } from '@kubernetes/client-node';
import type { SimMesh } from '../../src/sim/index.ts';

/**
 * The test's own view of a simulated cluster, as an SRE's kubectl would have it: one KubeConfig per cluster,
 * loaded once, from which each test world makes the API clients it reads and edits with.
 */
export function kubeConfigs(sim: SimMesh): (cluster: string) => KubeConfig {
  const loaded = new Map<string, KubeConfig>();
  return (cluster) => {
    let kc = loaded.get(cluster);
    if (!kc) {
      kc = new KubeConfig();
      kc.loadFromFile(sim.kubeconfigPath(cluster));
      loaded.set(cluster, kc);
    }
    return kc;
  };
}

/** The `clusters:` part of a meshops config for the seed simulation: icp the primary, iks the remote. */
export function seedClustersYaml(sim: SimMesh): string {
  return `clusters:
  - name: icp
    role: primary
    kubeconfig: ${sim.kubeconfigPath('icp')}
  - name: iks
    role: remote
    kubeconfig: ${sim.kubeconfigPath('iks')}
`;
}
