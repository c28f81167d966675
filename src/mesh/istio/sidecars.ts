import { ApiException } from '@kubernetes/client-node';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError, KubeError } from '../../kube/errors.ts';
import { type PodShape, printPod } from '../../kube/pod-status.ts';
import { namespaceFacts, type PodOwnerShape, proxyContainer, workloadOf } from './facts.ts';
import type { UnknownProxy } from './report.ts';

/** What one cluster's pods say about proxies: every running sidecar in an injected namespace, by id. */
export interface SidecarPods {
  cluster: string;
  role: 'primary' | 'remote';
  ok: boolean;
  failure?: string;
  /** `<pod>.<namespace>` of every pod in the cluster (to place pilot's proxies). */
  podIds: Set<string>;
  /** Running pods with a sidecar in namespaces labelled for injection. */
  sidecars: UnknownProxy[];
}

/** A pod as the API server sends it, reduced to what placing pilot's proxies needs. */
export interface RawPod extends PodShape, PodOwnerShape {
  metadata?: PodShape['metadata'] & PodOwnerShape['metadata'] & { namespace?: string };
  spec?: PodShape['spec'] & PodOwnerShape['spec'];
}

export function sidecarPods(
  cluster: { name: string; role: 'primary' | 'remote' },
  pods: readonly RawPod[],
  injected: ReadonlySet<string>,
): SidecarPods {
  const podIds = new Set<string>();
  const sidecars: UnknownProxy[] = [];
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    podIds.add(`${name}.${namespace}`);
    if (!injected.has(namespace) || !proxyContainer(pod.spec)) continue;
    // kubectl's STATUS: Running, and not Terminating (a pod being deleted has left pilot already).
    if (printPod(pod).reason === 'Running')
      sidecars.push({ namespace, pod: name, workload: workloadOf(pod) });
  }
  return { cluster: cluster.name, role: cluster.role, ok: true, podIds, sidecars };
}

/**
 * Every pod of the cluster as plain JSON: with 200 pods, client-node's model conversion costs about as much
 * as the call itself, and it happens once per cluster on the one event loop; these few fields need none of it.
 */
async function listPods(cluster: Cluster, timeoutMs: number): Promise<RawPod[]> {
  const res = await cluster.get('/api/v1/pods', timeoutMs);
  if (res.status !== 200)
    throw new KubeError(classifyKubeError(new ApiException(res.status, 'list pods', res.body, {})));
  return (JSON.parse(res.body) as { items?: RawPod[] }).items ?? [];
}

/** One cluster's namespaces and pods, reduced to its running sidecars (two list calls). */
export async function listSidecars(cluster: Cluster, timeoutMs: number): Promise<SidecarPods> {
  try {
    const [namespaces, pods] = await Promise.all([
      cluster.core.listNamespace({}, cluster.options(timeoutMs)),
      listPods(cluster, timeoutMs),
    ]);
    const injected = new Set(
      namespaces.items.map(namespaceFacts).flatMap((n) => (n.injection ? [n.name] : [])),
    );
    return sidecarPods(cluster, pods, injected);
  } catch (err) {
    return {
      cluster: cluster.name,
      role: cluster.role,
      ok: false,
      failure: classifyKubeError(err, timeoutMs).reason,
      podIds: new Set(),
      sidecars: [],
    };
  }
}
