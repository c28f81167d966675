// Where the mesh sends a request: Istio's VirtualService and DestinationRule semantics as the
// simulation applies them (istio.io "Traffic Management" reference), implemented here on its own so
// the traffic it reports never depends on how meshops reads the same objects.

import type { SimCluster } from '../cluster/sim-cluster.ts';
import type { Json, KubeObject } from '../cluster/store.ts';

const ISTIO = 'networking.istio.io';

export interface Endpoint {
  cluster: string;
  pod: KubeObject;
  /** Share of the flow's requests this pod receives (all endpoints of a flow add up to 1). */
  share: number;
}

const fqdn = (host: string, namespace: string) =>
  host.includes('.') ? host : `${host}.${namespace}.svc.cluster.local`;

const hasLabels = (labels: Record<string, string> | undefined, want: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => labels?.[k] === v);

function ready(pod: Json): boolean {
  if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running') return false;
  const cond = (pod.status?.conditions ?? []).find((c: Json) => c.type === 'Ready');
  return cond ? cond.status === 'True' : true;
}

/** Ready pods of `service` (its selector) in every cluster, narrowed by `extra` labels (a subset). */
function podsOf(
  clusters: readonly SimCluster[],
  namespace: string,
  service: string,
  extra: Record<string, string>,
): { cluster: string; pod: KubeObject }[] {
  const out: { cluster: string; pod: KubeObject }[] = [];
  for (const c of clusters) {
    const svc = c.get('services', namespace, service) as Json | undefined;
    const selector = svc?.spec?.selector as Record<string, string> | undefined;
    if (!selector) continue;
    for (const pod of c.list('pods', namespace)) {
      if (hasLabels(pod.metadata.labels, { ...selector, ...extra }) && ready(pod))
        out.push({ cluster: c.name, pod });
    }
  }
  return out;
}

/**
 * The first HTTP route a request without headers from `sourceLabels` takes: routes are tried in order,
 * a route without match conditions matches everything, and a match entry matches when all its
 * conditions hold (the simulated callers send no headers and plain GET /).
 */
function routeFor(spec: Json, sourceLabels: Record<string, string>): Json | undefined {
  for (const route of (spec.http ?? []) as Json[]) {
    const matches = (route.match ?? []) as Json[];
    if (matches.length === 0) return route;
    const hit = matches.some((m) => {
      const keys = Object.keys(m).filter((k) => k !== 'name');
      if (keys.some((k) => k !== 'sourceLabels' && k !== 'uri')) return false;
      if (m.uri && !(m.uri.prefix === '/' || m.uri.prefix === '')) return false;
      return !m.sourceLabels || hasLabels(sourceLabels, m.sourceLabels);
    });
    if (hit) return route;
  }
  return undefined;
}

/**
 * Every pod a request from `source` to `service` may land on, with its share, as the primary's
 * routing config decides (istiod reads Istio config only on the primary).
 */
export function endpointsFor(
  primary: SimCluster,
  clusters: readonly SimCluster[],
  namespace: string,
  service: string,
  sourceLabels: Record<string, string>,
): Endpoint[] {
  const host = fqdn(service, namespace);
  const vs = primary
    .list('virtualservices', undefined, ISTIO)
    .find((o) =>
      ((o as Json).spec?.hosts ?? []).some(
        (h: string) => fqdn(h, o.metadata.namespace ?? namespace) === host,
      ),
    ) as Json | undefined;
  const even = (pods: { cluster: string; pod: KubeObject }[], weight: number): Endpoint[] =>
    pods.map((p) => ({ ...p, share: weight / pods.length }));
  if (!vs) return even(podsOf(clusters, namespace, service, {}), 1);
  const route = routeFor(vs.spec ?? {}, sourceLabels);
  const destinations = (route?.route ?? []) as Json[];
  if (destinations.length === 0) return [];
  const rules = primary
    .list('destinationrules', undefined, ISTIO)
    .filter((o) => fqdn((o as Json).spec?.host ?? '', o.metadata.namespace ?? namespace) === host);
  const total = destinations.reduce((n, d) => n + (d.weight ?? (destinations.length === 1 ? 100 : 0)), 0);
  return destinations.flatMap((d) => {
    const weight = (d.weight ?? (destinations.length === 1 ? 100 : 0)) / (total || 1);
    let labels: Record<string, string> = {};
    if (d.destination?.subset) {
      const subset = rules
        .flatMap((r) => ((r as Json).spec?.subsets ?? []) as Json[])
        .find((s) => s.name === d.destination.subset);
      // A subset no DestinationRule defines sends nothing anywhere (Envoy answers 503 NR).
      if (!subset) return [];
      labels = subset.labels ?? {};
    }
    return even(podsOf(clusters, namespace, service, labels), weight);
  });
}
