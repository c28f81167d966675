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
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type StoreEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; key: string; object: KubeObject };

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
  readonly #listeners: ((event: StoreEvent) => void)[] = [];

  constructor(initialResourceVersion = 0) {
    this.#rv = initialResourceVersion;
  }

  get resourceVersion(): string {
    return String(this.#rv);
  }

  onChange(listener: (event: StoreEvent) => void): void {
    this.#listeners.push(listener);
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
    this.#emit({ type: previous ? 'MODIFIED' : 'ADDED', key, object: stored });
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
    this.#emit({ type: 'DELETED', key, object: entry.object });
    return entry.object;
  }

  /** Drops every object but keeps counting resourceVersions, so clients never see one go backwards. */
  clear(): void {
    this.#buckets.clear();
    this.#sorted.clear();
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
    for (const listener of this.#listeners) listener(event);
  }
}
