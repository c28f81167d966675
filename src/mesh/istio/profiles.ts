import type { ClusterConfig, ComponentSpec, IstioProfile, MeshConfig } from '../../config/schema.ts';

/** The modern remote points at istiod through the primary's east-west gateway. */
export const EASTWEST_COMPONENT = 'eastwestgateway';
export const ISTIOD_COMPONENT = 'istiod';

/** The component whose loss stops configuration for the whole mesh. */
export const DISCOVERY: Record<IstioProfile, string> = { 'istio-1.0': 'pilot', modern: ISTIOD_COMPONENT };

export const DEFAULT_PROFILE: IstioProfile = 'istio-1.0';
export const DEFAULT_NAMESPACE = 'istio-system';

const c = (name: string, selector: string, optional = false): ComponentSpec => ({ name, selector, optional });

/**
 * The pods each role runs, by the pod-template labels of the charts (install/kubernetes/helm/istio
 * and istio-remote in istio/istio 1.0.2; manifests/charts in istio/istio master for modern Istio).
 * Names are what users read in reports and what drift findings refer to.
 */
export const BUILTIN_PROFILES: Record<
  IstioProfile,
  Record<'primary' | 'remote', readonly ComponentSpec[]>
> = {
  'istio-1.0': {
    primary: [
      c('pilot', 'istio=pilot'),
      // `istio=mixer` would match policy and telemetry alike; the mixer type tells them apart.
      c('policy', 'istio-mixer-type=policy'),
      c('telemetry', 'istio-mixer-type=telemetry'),
      c('statsd-prom-bridge', 'istio=statsd-prom-bridge'),
      c('tracing', 'app=jaeger'),
      c('citadel', 'istio=citadel'),
      c('sidecar-injector', 'istio=sidecar-injector'),
      c('galley', 'istio=galley'),
      c('ingressgateway', 'istio=ingressgateway'),
      // Only needed for controlled egress; a mesh without it still serves traffic.
      c('egressgateway', 'istio=egressgateway', true),
    ],
    remote: [c('citadel', 'istio=citadel'), c('sidecar-injector', 'istio=sidecar-injector')],
  },
  modern: {
    primary: [c('istiod', 'app=istiod'), c('eastwestgateway', 'istio=eastwestgateway')],
    // A remote runs no istiod; its `istiod` Service and EndpointSlice are checked with the drift.
    remote: [],
  },
};

/** What to look for on one cluster after the mesh-wide and per-cluster overrides. */
export interface IstioSetup {
  profile: IstioProfile;
  namespace: string;
  components: readonly ComponentSpec[];
}

/** Per cluster beats mesh-wide beats the profile, field by field. */
export function istioSetup(config: Pick<MeshConfig, 'istio'>, cluster: ClusterConfig): IstioSetup {
  const profile = cluster.istio?.profile ?? config.istio.profile ?? DEFAULT_PROFILE;
  return {
    profile,
    namespace: cluster.istio?.namespace ?? config.istio.namespace ?? DEFAULT_NAMESPACE,
    components:
      cluster.istio?.components ??
      config.istio.components?.[cluster.role] ??
      BUILTIN_PROFILES[profile][cluster.role],
  };
}
