import type { ClusterConfig, MeshConfig } from './schema.ts';

/** The strongSwan pod when neither the cluster nor the mesh config names one. */
export const DEFAULT_STRONGSWAN = { namespace: 'default', selector: 'app=strongswan' };

/**
 * Where a cluster's strongSwan pod runs: per cluster beats mesh-wide beats the default. The VPN check looks
 * for the pod there and the status check counts that namespace's Deployments and DaemonSets.
 */
export function strongswanNamespace(
  config: Partial<Pick<MeshConfig, 'vpn'>>,
  cluster: Pick<ClusterConfig, 'vpn'>,
): string {
  return (
    cluster.vpn?.strongswan?.namespace ?? config.vpn?.strongswan.namespace ?? DEFAULT_STRONGSWAN.namespace
  );
}
