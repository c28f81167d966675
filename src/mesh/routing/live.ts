import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError, KubeError } from '../../kube/errors.ts';
import type { LiveVirtualService } from './plan.ts';
import { ISTIO_GROUP, VS_VERSIONS, type VsVersion } from './schema.ts';
import { refText, type VirtualServiceSpec, type VsRef } from './types.ts';

/**
 * Istio objects on a cluster, read and written through client-node. Istio 1.0 serves only v1alpha3 and
 * current Istio prefers v1, so the version is found by asking, newest first, once per cluster.
 */

const served = new WeakMap<Cluster, Promise<VsVersion>>();
const NEWEST_FIRST = [...VS_VERSIONS].reverse();

async function probeVersion(cluster: Cluster, namespace: string): Promise<VsVersion> {
  for (const version of NEWEST_FIRST) {
    try {
      await cluster.custom.listNamespacedCustomObject(
        { group: ISTIO_GROUP, version, namespace, plural: 'virtualservices', limit: 1 },
        cluster.options(),
      );
      return version;
    } catch (err) {
      if (classifyKubeError(err).kind !== 'not-found')
        throw new KubeError(classifyKubeError(err), { cause: err });
    }
  }
  throw new KubeError({
    kind: 'not-found',
    reason: `${cluster.name} serves no VirtualService API (${ISTIO_GROUP} ${NEWEST_FIRST.join(', ')}): is Istio installed there?`,
  });
}

/** The networking.istio.io version the cluster serves; a failed probe is not cached. */
export function istioVersion(cluster: Cluster, namespace: string): Promise<VsVersion> {
  let found = served.get(cluster);
  if (!found) {
    found = probeVersion(cluster, namespace);
    served.set(cluster, found);
    found.catch(() => served.delete(cluster));
  }
  return found;
}

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new KubeError(classifyKubeError(err), { cause: err });
  }
}

interface RawObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: unknown;
}

function toLive(raw: RawObject, namespace: string): LiveVirtualService {
  return {
    ref: { namespace: raw.metadata?.namespace ?? namespace, name: raw.metadata?.name ?? '' },
    resourceVersion: String(raw.metadata?.resourceVersion ?? ''),
    spec: (raw.spec ?? {}) as VirtualServiceSpec,
  };
}

/** Every VirtualService in the namespaces, by `namespace/name`. */
export async function listVirtualServices(
  cluster: Cluster,
  namespaces: readonly string[],
): Promise<Map<string, LiveVirtualService>> {
  const out = new Map<string, LiveVirtualService>();
  const lists = await Promise.all(
    [...new Set(namespaces)].map(async (namespace) => {
      const version = await istioVersion(cluster, namespace);
      const list = (await call(() =>
        cluster.custom.listNamespacedCustomObject(
          { group: ISTIO_GROUP, version, namespace, plural: 'virtualservices' },
          cluster.options(),
        ),
      )) as { items?: RawObject[] };
      return (list.items ?? []).map((item) => toLive(item, namespace));
    }),
  );
  for (const vs of lists.flat()) out.set(refText(vs.ref), vs);
  return out;
}

/** The object as stored, for a replace that keeps its labels and annotations; null when absent. */
export async function readVirtualService(
  cluster: Cluster,
  ref: VsRef,
): Promise<{ live: LiveVirtualService; raw: Record<string, unknown> } | null> {
  const version = await istioVersion(cluster, ref.namespace);
  try {
    const raw = (await cluster.custom.getNamespacedCustomObject(
      { group: ISTIO_GROUP, version, namespace: ref.namespace, plural: 'virtualservices', name: ref.name },
      cluster.options(),
    )) as Record<string, unknown>;
    return { live: toLive(raw as RawObject, ref.namespace), raw };
  } catch (err) {
    const failure = classifyKubeError(err);
    if (failure.kind === 'not-found') return null;
    throw new KubeError(failure, { cause: err });
  }
}

/**
 * Writes `spec` over the object at exactly `resourceVersion`: the API server answers 409 if anything wrote in
 * between, and that conflict reaches the caller; it is never retried over.
 */
export async function replaceVirtualService(
  cluster: Cluster,
  current: Record<string, unknown>,
  ref: VsRef,
  resourceVersion: string,
  spec: VirtualServiceSpec,
): Promise<string> {
  const version = await istioVersion(cluster, ref.namespace);
  const metadata = { ...(current.metadata as Record<string, unknown>), resourceVersion };
  const body = { apiVersion: `${ISTIO_GROUP}/${version}`, kind: 'VirtualService', metadata, spec };
  const stored = (await call(() =>
    cluster.custom.replaceNamespacedCustomObject(
      {
        group: ISTIO_GROUP,
        version,
        namespace: ref.namespace,
        plural: 'virtualservices',
        name: ref.name,
        body,
      },
      cluster.options(),
    ),
  )) as RawObject;
  return String(stored.metadata?.resourceVersion ?? '');
}

/** Creates the object; 409 AlreadyExists if someone created it since the plan said it was absent. */
export async function createVirtualService(
  cluster: Cluster,
  ref: VsRef,
  spec: VirtualServiceSpec,
): Promise<string> {
  const version = await istioVersion(cluster, ref.namespace);
  const body = {
    apiVersion: `${ISTIO_GROUP}/${version}`,
    kind: 'VirtualService',
    metadata: { name: ref.name, namespace: ref.namespace },
    spec,
  };
  const stored = (await call(() =>
    cluster.custom.createNamespacedCustomObject(
      { group: ISTIO_GROUP, version, namespace: ref.namespace, plural: 'virtualservices', body },
      cluster.options(),
    ),
  )) as RawObject;
  return String(stored.metadata?.resourceVersion ?? '');
}

/** Deletes the object only if it is still at `resourceVersion` (a precondition, so never a newer version). */
export async function deleteVirtualService(
  cluster: Cluster,
  ref: VsRef,
  resourceVersion: string,
): Promise<void> {
  const version = await istioVersion(cluster, ref.namespace);
  await call(() =>
    cluster.custom.deleteNamespacedCustomObject(
      {
        group: ISTIO_GROUP,
        version,
        namespace: ref.namespace,
        plural: 'virtualservices',
        name: ref.name,
        body: { preconditions: { resourceVersion } },
      },
      cluster.options(),
    ),
  );
}

export interface DestinationRuleSubsets {
  name: string;
  host: string;
  namespace: string;
  /** trafficPolicy.tls.mode of the rule (DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL), if set. */
  tlsMode?: string;
  subsets: { name: string; labels: Record<string, string>; tlsMode?: string }[];
}

type TrafficPolicy = { tls?: { mode?: string } };
const tlsModeOf = (policy: TrafficPolicy | undefined) =>
  policy?.tls?.mode ? { tlsMode: policy.tls.mode } : {};

/** DestinationRules in the namespaces, read with the same served version as VirtualServices. */
export async function listDestinationRules(
  cluster: Cluster,
  namespaces: readonly string[],
): Promise<DestinationRuleSubsets[]> {
  const lists = await Promise.all(
    [...new Set(namespaces)].map(async (namespace) => {
      const version = await istioVersion(cluster, namespace);
      const list = (await call(() =>
        cluster.custom.listNamespacedCustomObject(
          { group: ISTIO_GROUP, version, namespace, plural: 'destinationrules' },
          cluster.options(),
        ),
      )) as {
        items?: {
          metadata?: { name?: string; namespace?: string };
          spec?: {
            host?: string;
            trafficPolicy?: TrafficPolicy;
            subsets?: { name?: string; labels?: Record<string, string>; trafficPolicy?: TrafficPolicy }[];
          };
        }[];
      };
      return (list.items ?? []).map((item) => ({
        name: item.metadata?.name ?? '',
        namespace: item.metadata?.namespace ?? namespace,
        host: item.spec?.host ?? '',
        ...tlsModeOf(item.spec?.trafficPolicy),
        subsets: (item.spec?.subsets ?? []).map((s) => ({
          name: s.name ?? '',
          labels: s.labels ?? {},
          ...tlsModeOf(s.trafficPolicy),
        })),
      }));
    }),
  );
  return lists.flat();
}
