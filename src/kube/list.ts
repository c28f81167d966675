import { ApiException } from '@kubernetes/client-node';
import type { Cluster } from './cluster.ts';
import { classifyKubeError, KubeError } from './errors.ts';

/**
 * A list call's items as plain JSON, typed by the caller's narrow shape: with a few hundred objects,
 * client-node's model conversion costs about as much as the call itself, and it runs once per cluster on the
 * one event loop, while the checks read a handful of fields. Same URL, same verb (`list`) as client-node's
 * own call, so the RBAC it needs is unchanged.
 */
export async function listItems<T>(
  cluster: Pick<Cluster, 'get'>,
  path: string,
  what: string,
  timeoutMs: number,
): Promise<T[]> {
  const res = await cluster.get(path, timeoutMs);
  if (res.status !== 200)
    throw new KubeError(classifyKubeError(new ApiException(res.status, `list ${what}`, res.body, {})));
  const items = (JSON.parse(res.body) as { items?: unknown } | null)?.items;
  if (items !== undefined && items !== null && !Array.isArray(items))
    throw new KubeError(classifyKubeError(new ApiException(500, `list ${what}`, 'items is not a list', {})));
  return (items ?? []) as T[];
}
