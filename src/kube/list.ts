import { ApiException } from '@kubernetes/client-node';
import { metrics } from '../observability/metrics.ts';
import type { Cluster } from './cluster.ts';
import { classifyKubeError, KubeError, type KubeFailure } from './errors.ts';

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

/** A list call's items. */
export async function listItems<T>(
  cluster: Reader,
  path: string,
  what: string,
  timeoutMs: number,
): Promise<T[]> {
  const read = itemsOf(await answered(cluster, path, `list ${what}`, timeoutMs));
  if ('problem' in read) answeredWith(cluster.name, `list ${what}`, read.problem);
  return read.items as T[];
}

/** One object read by name; absent, it throws the `not-found` failure client-node's read gives. */
export async function readObject<T>(
  cluster: Reader,
  path: string,
  what: string,
  timeoutMs: number,
): Promise<T> {
  const read = objectOf(await answered(cluster, path, `read ${what}`, timeoutMs), 'object');
  if ('problem' in read) answeredWith(cluster.name, `read ${what}`, read.problem);
  return read.object as T;
}

/** The body of a 200; any other status is the failure client-node's call throws for it. */
async function answered(cluster: Reader, path: string, call: string, timeoutMs: number): Promise<string> {
  const res = await cluster.get(path, timeoutMs);
  if (res.status !== 200)
    fail(cluster.name, classifyKubeError(new ApiException(res.status, call, res.body, {})));
  return res.body;
}

function answeredWith(cluster: string, call: string, problem: string): never {
  fail(cluster, {
    kind: 'server-error',
    status: 200,
    reason: `${call}: the API server answered 200 with ${problem}`,
  });
}

/** client-node's calls are counted by the cluster's own wrapper; a plain-JSON read's failure is counted here. */
function fail(cluster: string, failure: KubeFailure): never {
  metrics.clusterErrors.inc({ cluster, kind: failure.kind });
  throw new KubeError(failure);
}

/** How much of a body that is not a list is quoted: enough to recognise a proxy's page, not the page. */
const QUOTED_CHARS = 40;

/**
 * The object of a 200 answer, or what it holds instead: something between meshops and the API server (a proxy's
 * HTML page, a cut connection) can answer 200 with a body that is not a Kubernetes object at all.
 */
function objectOf(body: string, expected: 'object' | 'list'): { object: object } | { problem: string } {
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
    return { problem: `JSON that is not a Kubernetes ${expected}` };
  return { object: parsed };
}

function itemsOf(body: string): { items: unknown[] } | { problem: string } {
  const read = objectOf(body, 'list');
  if ('problem' in read) return read;
  const items = (read.object as { items?: unknown }).items;
  if (items != null && !Array.isArray(items)) return { problem: 'a list whose items are not an array' };
  return { items: items ?? [] };
}
