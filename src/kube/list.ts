import { ApiException } from '@kubernetes/client-node';
import { metrics } from '../observability/metrics.ts';
import type { Cluster } from './cluster.ts';
import { classifyKubeError, KubeError } from './errors.ts';

/**
 * A list call's items as plain JSON, typed by the caller's narrow shape: with a few hundred objects,
 * client-node's model conversion costs about as much as the call itself, and it runs once per cluster on the
 * one event loop, while the checks read a handful of fields. Same URL, same verb (`list`) as client-node's
 * own call, so the RBAC it needs is unchanged.
 */
export async function listItems<T>(
  cluster: Pick<Cluster, 'name' | 'get'>,
  path: string,
  what: string,
  timeoutMs: number,
): Promise<T[]> {
  const res = await cluster.get(path, timeoutMs);
  const items = res.status === 200 ? (JSON.parse(res.body) as { items?: unknown } | null)?.items : undefined;
  if (res.status !== 200 || (items != null && !Array.isArray(items))) {
    const status = res.status === 200 ? 500 : res.status;
    const failure = classifyKubeError(new ApiException(status, `list ${what}`, res.body, {}));
    // client-node's calls are counted by the cluster's own wrapper; an answer that is not a list is counted here.
    metrics.clusterErrors.inc({ cluster: cluster.name, kind: failure.kind });
    throw new KubeError(failure);
  }
  return (items ?? []) as T[];
}
