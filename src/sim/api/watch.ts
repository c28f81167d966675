// Watch (`?watch=true`) as kube-apiserver's watch cache serves it: one JSON event per line, replayed from
// the requested resourceVersion (410 Expired past the kept history) or, without one, the current objects
// as ADDED first; an object that stops matching the selectors arrives as DELETED, one that starts as ADDED.
// kubectl's informers (`rollout status`, `get -w`, `wait`) list, then watch from the list's resourceVersion.

import type { SimCluster } from '../cluster/sim-cluster.ts';
import type { KubeObject, StoreEvent } from '../cluster/store.ts';
import { type ResourceType, storeKey } from './resources.ts';
import { selectors, served, tableKind, wantsTable } from './rest.ts';
import type { ResourceRoute } from './routes.ts';
import { errors } from './status.ts';
import { buildTable, type IncludeObject } from './table.ts';

export interface WatchRequest {
  route: ResourceRoute;
  query: URLSearchParams;
  accept: string;
}

export interface WatchSink {
  write(line: string): void;
  end(): void;
}

export function isWatch(query: URLSearchParams): boolean {
  return ['true', '1'].includes(query.get('watch') ?? '');
}

/** Starts streaming events into `sink`; the returned function stops (the client went away). */
export function startWatch(
  cluster: SimCluster,
  type: ResourceType,
  req: WatchRequest,
  sink: WatchSink,
): () => void {
  const key = storeKey(type);
  const namespace = req.route.namespace;
  const selected = selectors(type, req.query);
  const matches = (o: KubeObject | undefined) =>
    o !== undefined && (namespace === undefined || o.metadata.namespace === namespace) && selected(o);
  const table = wantsTable(req.accept);
  const include = (req.query.get('includeObject') ?? 'Metadata') as IncludeObject;
  const send = (eventType: string, object: KubeObject) => {
    const body = served(type, req.route.version, object);
    const shown = table
      ? buildTable(
          tableKind(type),
          [body],
          body.metadata.resourceVersion ?? '',
          cluster.timing.now(),
          include,
        )
      : body;
    sink.write(`${JSON.stringify({ type: eventType, object: shown })}\n`);
  };
  const deliver = (event: StoreEvent) => {
    if (event.key !== key) return;
    const was = matches(event.previous);
    const is = event.type !== 'DELETED' && matches(event.object);
    if (event.type === 'DELETED') {
      if (was) send('DELETED', event.object);
    } else if (is) {
      send(was ? 'MODIFIED' : 'ADDED', event.object);
    } else if (was) {
      const previous = event.previous!;
      send('DELETED', {
        ...previous,
        metadata: { ...previous.metadata, resourceVersion: String(event.resourceVersion) },
      });
    }
  };

  const from = req.query.get('resourceVersion') ?? '';
  if (from === '' || from === '0') {
    for (const o of cluster.store.list(key, namespace)) if (selected(o)) send('ADDED', o);
  } else {
    const changes = /^\d+$/.test(from) ? cluster.store.changesSince(Number(from)) : undefined;
    if (changes === undefined) {
      const status = errors.expired(from, String(cluster.store.oldestReplayable)).status;
      sink.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      sink.end();
      return () => {};
    }
    for (const event of changes) deliver(event);
  }
  const unsubscribe = cluster.store.onChange(deliver);
  const timeoutSeconds = Number(req.query.get('timeoutSeconds') ?? 0);
  const timer =
    timeoutSeconds > 0
      ? setTimeout(() => {
          stop();
          sink.end();
        }, timeoutSeconds * 1000)
      : undefined;
  timer?.unref();
  const stop = () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
  return stop;
}
