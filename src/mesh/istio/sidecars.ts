import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { namespaceFacts, podFacts } from './facts.ts';
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

export function sidecarPods(
  cluster: { name: string; role: 'primary' | 'remote' },
  pods: readonly V1Pod[],
  injected: ReadonlySet<string>,
  now: number,
): SidecarPods {
  const podIds = new Set<string>();
  const sidecars: UnknownProxy[] = [];
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    podIds.add(`${name}.${namespace}`);
    if (!injected.has(namespace)) continue;
    const facts = podFacts(pod, now);
    if (facts.sidecar !== 'missing' && facts.state.status === 'Running' && !facts.state.terminating)
      sidecars.push({ namespace, pod: name, workload: facts.workload });
  }
  return { cluster: cluster.name, role: cluster.role, ok: true, podIds, sidecars };
}

/** One cluster's namespaces and pods, reduced to its running sidecars (two list calls). */
export async function listSidecars(cluster: Cluster, timeoutMs: number, now: number): Promise<SidecarPods> {
  try {
    const [namespaces, pods] = await Promise.all([
      cluster.core.listNamespace({}, cluster.options(timeoutMs)),
      cluster.core.listPodForAllNamespaces({}, cluster.options(timeoutMs)),
    ]);
    const injected = new Set(
      namespaces.items.map(namespaceFacts).flatMap((n) => (n.injection ? [n.name] : [])),
    );
    return sidecarPods(cluster, pods.items, injected, now);
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
