import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { listItems } from '../../kube/list.ts';
import { type PodShape, printPod } from '../../kube/pod-status.ts';
import {
  type NamespaceShape,
  namespaceFacts,
  type PodOwnerShape,
  proxyContainer,
  workloadOf,
} from './facts.ts';
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

/** One cluster's namespaces and pods, reduced to its running sidecars (two list calls, read as plain JSON). */
export async function listSidecars(cluster: Cluster, timeoutMs: number): Promise<SidecarPods> {
  try {
    const [namespaces, pods] = await Promise.all([
      listItems<NamespaceShape>(cluster, '/api/v1/namespaces', 'namespaces', timeoutMs),
      listItems<RawPod>(cluster, '/api/v1/pods', 'pods', timeoutMs),
    ]);
    const injected = new Set(namespaces.map(namespaceFacts).flatMap((n) => (n.injection ? [n.name] : [])));
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
