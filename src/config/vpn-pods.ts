import type { ClusterConfig, MeshConfig } from './schema.ts';

/** Where the VPN pods of one cluster are, as configured: read by the VPN check and the status check. */
export interface PodSelector {
  namespace: string;
  selector: string;
  container?: string;
}

const DEFAULT_STRONGSWAN = { namespace: 'default', selector: 'app=strongswan' };

type Configured = { config: Pick<ClusterConfig, 'vpn'> };

/** Per cluster beats mesh-wide beats the default, field by field. */
export function strongswanSelector(config: Pick<MeshConfig, 'vpn'>, cluster: Configured): PodSelector {
  const own = cluster.config.vpn?.strongswan;
  const mesh = config.vpn.strongswan;
  const container = own?.container ?? mesh.container;
  return {
    namespace: own?.namespace ?? mesh.namespace ?? DEFAULT_STRONGSWAN.namespace,
    selector: own?.selector ?? mesh.selector ?? DEFAULT_STRONGSWAN.selector,
    ...(container ? { container } : {}),
  };
}

/** Where pings run from: a configured probe, else the strongSwan pod itself (it sits on the tunnel). */
export function probeSelector(config: Pick<MeshConfig, 'vpn'>, cluster: Configured): PodSelector {
  const own = cluster.config.vpn?.probe;
  const mesh = config.vpn.probe;
  if (!own && !mesh) return strongswanSelector(config, cluster);
  const container = own?.container ?? mesh?.container;
  return {
    namespace: own?.namespace ?? mesh?.namespace ?? DEFAULT_STRONGSWAN.namespace,
    selector: own?.selector ?? mesh?.selector ?? DEFAULT_STRONGSWAN.selector,
    ...(container ? { container } : {}),
  };
}

export const describeSelector = (s: PodSelector) => `${s.selector} in namespace ${s.namespace}`;
