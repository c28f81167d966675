import type { MeshConfig } from '../../config/schema.ts';
import { strongswanSelector } from '../../config/vpn-pods.ts';
import type { Cluster } from '../../kube/cluster.ts';
import type { Clusters } from '../../kube/registry.ts';
import { readTunnelSide } from '../vpn/exec.ts';
import { cidrsOf, findPod } from '../vpn/gather.ts';
import type { TunnelProbe, TunnelState } from './preflight.ts';

/**
 * The VPN tunnel between the primary and one remote, read the way `/mesh vpn` reads it (strongSwan pods,
 * `ipsec statusall`), but only the tunnel: pre-flight needs to know whether traffic can cross, not how well.
 * Up only when both sides say up, so a half-up tunnel blocks like a down one.
 */
export function tunnelProbe(ctx: { config: MeshConfig; clusters: Pick<Clusters, 'primary'> }): TunnelProbe {
  const timeoutMs = ctx.config.checks.clusterTimeout;
  const side = async (cluster: Cluster, peer: Cluster) => {
    const found = await findPod(cluster, strongswanSelector(ctx.config, cluster), timeoutMs, Date.now());
    return readTunnelSide(cluster, found, {
      own: { name: cluster.name, cidrs: cidrsOf(cluster) },
      peers: [{ name: peer.name, cidrs: cidrsOf(peer) }],
      onlyPeer: cluster.role === 'remote',
      timeoutMs,
    });
  };
  return async (remote): Promise<TunnelState> => {
    const primary = ctx.clusters.primary;
    const sides = await Promise.all([side(primary, remote), side(remote, primary)]);
    // One side saying down is enough to know; an unreadable side only leaves it unknown.
    for (const s of sides) {
      const peer = s.ok ? s.peers[0] : undefined;
      if (peer && peer.state !== 'up') return { state: 'down', reason: `${s.cluster} side: ${peer.detail}` };
    }
    for (const s of sides) if (!s.ok) return { state: 'unknown', reason: `${s.cluster}: ${s.problem}` };
    return { state: 'up' };
  };
}
