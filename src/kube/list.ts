import { ApiException } from '@kubernetes/client-node';
import { metrics } from '../observability/metrics.ts';
import type { Cluster } from './cluster.ts';
import { classifyKubeError, KubeError, type KubeFailure } from './errors.ts';

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
  if (res.status !== 200)
    fail(cluster.name, classifyKubeError(new ApiException(res.status, `list ${what}`, res.body, {})));
  const read = itemsOf(res.body);
  if ('problem' in read) {
    const reason = `list ${what}: the API server answered 200 with ${read.problem}`;
    fail(cluster.name, { kind: 'server-error', status: 200, reason });
  }
  return read.items as T[];
}

/** client-node's calls are counted by the cluster's own wrapper; an answer that is not a list is counted here. */
function fail(cluster: string, failure: KubeFailure): never {
  metrics.clusterErrors.inc({ cluster, kind: failure.kind });
  throw new KubeError(failure);
}

/** How much of a body that is not a list is quoted: enough to recognise a proxy's page, not the page. */
const QUOTED_CHARS = 40;

/**
 * The items of a 200 answer, or what it holds instead: something between meshops and the API server (a proxy's
 * HTML page, a cut connection) can answer 200 with a body that is not a Kubernetes list at all.
 */
function itemsOf(body: string): { items: unknown[] } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const start = body.replace(/\s+/g, ' ').trim();
    if (start === '') return { problem: 'an empty body' };
    const chars = [...start];
    const quoted = JSON.stringify(chars.slice(0, QUOTED_CHARS).join(''));
    return {
      problem: `a body that is not JSON (starts with ${quoted}${chars.length > QUOTED_CHARS ? '…' : ''})`,
    };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { problem: 'JSON that is not a Kubernetes list' };
  const items = (parsed as { items?: unknown }).items;
  if (items != null && !Array.isArray(items)) return { problem: 'a list whose items are not an array' };
  return { items: items ?? [] };
}
