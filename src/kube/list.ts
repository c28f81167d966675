import { ApiException } from '@kubernetes/client-node';
import { metrics } from '../observability/metrics.ts';
import type { Cluster } from './cluster.ts';
import { classifyKubeError, KubeError } from './errors.ts';

// Reads of API objects as plain JSON, typed by the caller's narrow shape: with a few hundred objects,
// client-node's model conversion costs about as much as the call itself, and it runs once per call on the
// one event loop, while the checks read a handful of fields. Same URLs and verbs (`list`, `get`) as
// client-node's own calls, so the RBAC they need is unchanged.

type Reader = Pick<Cluster, 'name' | 'get'>;

export interface ApiRef {
  /** e.g. `apps/v1`; the core group when absent. */
  group?: string;
  namespace?: string;
  resource: string;
  name?: string;
  labelSelector?: string;
}

/** The path of a resource as client-node's generated calls build it (segments URI-encoded, the selector a query). */
export function apiPath(ref: ApiRef): string {
  const base = ref.group ? `/apis/${ref.group}` : '/api/v1';
  const namespace = ref.namespace === undefined ? '' : `/namespaces/${encodeURIComponent(ref.namespace)}`;
  const name = ref.name === undefined ? '' : `/${encodeURIComponent(ref.name)}`;
  const query =
    ref.labelSelector === undefined ? '' : `?${new URLSearchParams({ labelSelector: ref.labelSelector })}`;
  return `${base}${namespace}/${ref.resource}${name}${query}`;
}

/** The failure client-node's call throws for the same answer, counted as the cluster's wrapper counts its calls. */
function refused(cluster: Reader, status: number, what: string, body: string): KubeError {
  const failure = classifyKubeError(new ApiException(status, what, body, {}));
  metrics.clusterErrors.inc({ cluster: cluster.name, kind: failure.kind });
  return new KubeError(failure);
}

/** A list call's items. */
export async function listItems<T>(
  cluster: Reader,
  path: string,
  what: string,
  timeoutMs: number,
): Promise<T[]> {
  const res = await cluster.get(path, timeoutMs);
  const items = res.status === 200 ? (JSON.parse(res.body) as { items?: unknown } | null)?.items : undefined;
  // An answer that is not a list is the server's fault, as client-node would fail on it.
  if (res.status !== 200 || (items != null && !Array.isArray(items)))
    throw refused(cluster, res.status === 200 ? 500 : res.status, `list ${what}`, res.body);
  return (items ?? []) as T[];
}

/** One object read by name; absent, it throws the `not-found` failure client-node's read gives. */
export async function readObject<T>(
  cluster: Reader,
  path: string,
  what: string,
  timeoutMs: number,
): Promise<T> {
  const res = await cluster.get(path, timeoutMs);
  const object = res.status === 200 ? (JSON.parse(res.body) as unknown) : undefined;
  if (res.status !== 200 || object === null || typeof object !== 'object' || Array.isArray(object))
    throw refused(cluster, res.status === 200 ? 500 : res.status, `read ${what}`, res.body);
  return object as T;
}
