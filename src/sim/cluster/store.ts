// One cluster's objects, like etcd behind an apiserver: every write bumps one cluster-wide
// resourceVersion counter. Stored objects are never mutated in place (writers hand in fresh
// objects), which lets lists reuse each object's cached JSON: 5,000 pods serialize by concatenation.

import { randomUUID } from 'node:crypto';

/** Kubernetes objects are open-ended JSON that the simulation walks by field path. */
// biome-ignore lint/suspicious/noExplicitAny: any field of any object may be read; values are checked where used.
export type Json = Record<string, any>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  /** A deletion carries the object as it was, at the deletion's resourceVersion (as etcd's watch gives it). */
  object: KubeObject;
  /** What the object was before a change, so that a filtered watch can tell entering from leaving. */
  previous?: KubeObject;
  resourceVersion: number;
}

/** How many changes a watch may ask to replay (the apiserver's watch cache window, by count). */
const HISTORY = 10_000;

interface Entry {
  object: KubeObject;
  json: Buffer | undefined;
}

function slot(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class Store {
  #rv = 0;
  readonly #buckets = new Map<string, Map<string, Entry>>();
  readonly #sorted = new Map<string, Entry[]>();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #history: StoreEvent[] = [];

  constructor(initialResourceVersion = 0) {
    this.#rv = initialResourceVersion;
  }

  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Calls `listener` on every change from now on; the returned function stops it. */
  onChange(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The changes after resourceVersion `rv`, oldest first; undefined when they are older than the history
   * kept (a watch from there answers 410 Gone and the client lists again).
   */
  changesSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.oldestReplayable) return undefined;
    return this.#history.filter((e) => e.resourceVersion > rv);
  }

  /** The oldest resourceVersion a watch may start from. */
  get oldestReplayable(): number {
    const oldest = this.#history[0];
    return oldest === undefined ? this.#rv : oldest.resourceVersion - 1;
  }

  get(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#buckets.get(key)?.get(slot(namespace, name))?.object;
  }

  /** Objects ordered by namespace then name, as etcd's key order gives them. */
  list(key: string, namespace?: string): KubeObject[] {
    return this.#entries(key, namespace).map((e) => e.object);
  }

  /**
   * The UTF-8 JSON of each listed object, cached until the object changes: a list answer is then these
   * bytes copied once, not one multi-megabyte string encoded again for every request.
   */
  listJson(key: string, namespace?: string, filter?: (o: KubeObject) => boolean): Buffer[] {
    const out: Buffer[] = [];
    for (const e of this.#entries(key, namespace)) {
      if (filter && !filter(e.object)) continue;
      e.json ??= Buffer.from(JSON.stringify(e.object));
      out.push(e.json);
    }
    return out;
  }

  /** Inserts or replaces; stamps resourceVersion, and uid/creationTimestamp on first write. */
  put(key: string, object: KubeObject, now = new Date()): KubeObject {
    const bucket = this.#bucket(key);
    const id = slot(object.metadata.namespace, object.metadata.name);
    const previous = bucket.get(id)?.object;
    const metadata: ObjectMeta = {
      ...object.metadata,
      uid: object.metadata.uid ?? previous?.metadata.uid ?? randomUUID(),
      creationTimestamp:
        object.metadata.creationTimestamp ??
        previous?.metadata.creationTimestamp ??
        now.toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: String(++this.#rv),
    };
    const stored = { ...object, metadata };
    const entry = bucket.get(id);
    if (entry) {
      // Updated in place: the sorted index holds this same entry.
      entry.object = stored;
      entry.json = undefined;
    } else {
      bucket.set(id, { object: stored, json: undefined });
      this.#sorted.delete(key);
    }
    this.#emit({
      type: previous ? 'MODIFIED' : 'ADDED',
      key,
      object: stored,
      ...(previous ? { previous } : {}),
      resourceVersion: this.#rv,
    });
    return stored;
  }

  delete(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const bucket = this.#buckets.get(key);
    const id = slot(namespace, name);
    const entry = bucket?.get(id);
    if (!bucket || !entry) return undefined;
    bucket.delete(id);
    this.#sorted.delete(key);
    this.#rv++;
    const gone = {
      ...entry.object,
      metadata: { ...entry.object.metadata, resourceVersion: String(this.#rv) },
    };
    this.#emit({ type: 'DELETED', key, object: gone, previous: entry.object, resourceVersion: this.#rv });
    return entry.object;
  }

  /** Drops every object but keeps counting resourceVersions, so clients never see one go backwards. */
  clear(): void {
    this.#buckets.clear();
    this.#sorted.clear();
    this.#history.length = 0;
    // The dropped objects' deletions were never sent: a watch from before this point must list again.
    this.#rv++;
  }

  #bucket(key: string): Map<string, Entry> {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new Map();
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  #entries(key: string, namespace?: string): Entry[] {
    let sorted = this.#sorted.get(key);
    if (!sorted) {
      const bucket = this.#buckets.get(key);
      sorted = bucket ? [...bucket.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, e]) => e) : [];
      this.#sorted.set(key, sorted);
    }
    if (namespace === undefined) return sorted;
    return sorted.filter((e) => e.object.metadata.namespace === namespace);
  }

  #emit(event: StoreEvent): void {
    this.#history.push(event);
    if (this.#history.length > HISTORY * 1.5) this.#history.splice(0, this.#history.length - HISTORY);
    for (const listener of this.#listeners) listener(event);
  }
}
