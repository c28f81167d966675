import { minorOf } from './version-tag.ts';

/**
 * Which object holds the address of the primary's istiod on a modern remote: the istio-discovery chart
 * (profile remote) renders a selector-less `istiod` Service and, up to Istio 1.27, an Endpoints object
 * (templates/remote-istiod-endpoints.yaml); from 1.28 an EndpointSlice
 * (templates/remote-istiod-endpointslices.yaml, istio/istio#57039). Kubernetes mirrors such Endpoints into an
 * EndpointSlice of its own (managed-by endpointslicemirroring-controller.k8s.io) and writes it back whenever
 * it is edited, so only the chart's object may be repaired.
 */
export type IstiodObjectKind = 'Endpoints' | 'EndpointSlice';

const SLICE_SINCE: readonly [number, number] = [1, 28];

/** The object the chart of this Istio version owns; undefined when the tag is not a version. */
export function istiodObjectOf(tag: string | undefined): IstiodObjectKind | undefined {
  const v = tag ? minorOf(tag) : undefined;
  if (!v) return undefined;
  const [major, minor] = SLICE_SINCE;
  return v[0] > major || (v[0] === major && v[1] >= minor) ? 'EndpointSlice' : 'Endpoints';
}

/** The label the EndpointSlice mirroring controller puts on the slices it writes from Endpoints. */
export const MIRRORED_SLICE = {
  label: 'endpointslice.kubernetes.io/managed-by',
  value: 'endpointslicemirroring-controller.k8s.io',
} as const;
