// The REST verbs on resources (list, get, create, update, patch, delete) with the apiserver's
// semantics: optimistic concurrency on resourceVersion, CRs that demand one on PUT, selector
// filtering, limit/continue, Tables for kubectl, dry runs.

import { randomUUID } from 'node:crypto';
import { kubeSuffix } from '../cluster/ids.ts';
import type { SimCluster } from '../cluster/sim-cluster.ts';
import type { Json, KubeObject } from '../cluster/store.ts';
import { withDefaults } from './defaults.ts';
import { labelSelector, SelectorError } from './label-selector.ts';
import { applyJsonPatch, mergePatch, parsePatchBody, patchTypeOf } from './patch.ts';
import { apiVersionOf, type ResourceType, storeKey } from './resources.ts';
import type { ResourceRoute } from './routes.ts';
import { matchesFields, parseFieldSelector } from './selectors.ts';
import { ApiError, errors } from './status.ts';
import { buildTable, CRD_DEFAULT_COLUMNS, type IncludeObject } from './table.ts';

export interface RestRequest {
  method: string;
  route: ResourceRoute;
  query: URLSearchParams;
  accept: string;
  contentType: string | undefined;
  body: string;
}

export interface RestResponse {
  status: number;
  /** Lists are bytes: joined from each object's cached JSON without building one large string. */
  body: string | Buffer;
}

const json = (status: number, value: unknown): RestResponse => ({ status, body: JSON.stringify(value) });
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

export function resolveType(cluster: SimCluster, route: ResourceRoute): ResourceType {
  const type = cluster.registry.find(route.group, route.version, route.resource);
  if (!type) throw errors.pathNotFound();
  if (route.namespace !== undefined && !type.namespaced) throw errors.pathNotFound();
  return type;
}

const WRITE_VERBS: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

export function handleRest(cluster: SimCluster, req: RestRequest): RestResponse {
  const { route, method } = req;
  const type = resolveType(cluster, route);
  if (route.subresource !== undefined) {
    if (route.subresource === 'status' && method === 'GET') return getOne(cluster, type, req);
    if (route.subresource === 'scale' && type.subresources?.some((s) => s.name === 'scale'))
      return scale(cluster, type, req);
    throw errors.pathNotFound();
  }
  const verb = WRITE_VERBS[method];
  if (verb && !type.verbs.includes(verb)) throw errors.methodNotAllowed(method, type);
  if (route.name === undefined) {
    if (type.namespaced === false && route.namespace !== undefined) throw errors.pathNotFound();
    if (method === 'GET') return list(cluster, type, req);
    if (method === 'POST') return create(cluster, type, req);
    throw errors.methodNotAllowed(method, type);
  }
  if (type.namespaced && route.namespace === undefined) throw errors.pathNotFound();
  switch (method) {
    case 'GET':
      return getOne(cluster, type, req);
    case 'PUT':
      return update(cluster, type, req);
    case 'PATCH':
      return patch(cluster, type, req);
    case 'DELETE':
      return remove(cluster, type, req);
    default:
      throw errors.methodNotAllowed(method, type);
  }
}

export const tableKind = (type: ResourceType) => (type.defaultColumns ? CRD_DEFAULT_COLUMNS : type.kind);

export function wantsTable(accept: string): boolean {
  return /as=Table/.test(accept);
}

/** The object as served at the requested version: built-ins gain kind/apiVersion, CRs are relabelled. */
export function served(type: ResourceType, version: string, object: KubeObject): KubeObject {
  return { ...object, kind: type.kind, apiVersion: apiVersionOf(type, version) } as KubeObject;
}

export function selectors(type: ResourceType, query: URLSearchParams) {
  try {
    const labels = labelSelector(query.get('labelSelector') ?? '');
    const fields = parseFieldSelector(query.get('fieldSelector') ?? '', [
      'metadata.name',
      'metadata.namespace',
      ...(type.fieldSelectors ?? []),
    ]);
    return (o: KubeObject) => labels(o.metadata.labels) && matchesFields(fields, o);
  } catch (e) {
    if (e instanceof SelectorError) throw errors.badRequest(e.message);
    throw e;
  }
}

interface ContinueToken {
  rv: string;
  start: number;
}

function page<T>(
  items: T[],
  query: URLSearchParams,
  rv: string,
): { items: T[]; meta: Record<string, unknown> } {
  const limit = Number(query.get('limit') ?? 0);
  const token = query.get('continue');
  let start = 0;
  if (token) {
    try {
      start = (JSON.parse(Buffer.from(token, 'base64url').toString()) as ContinueToken).start;
    } catch {
      throw errors.badRequest('continue key is not valid: illegal base64 data');
    }
  }
  if (!(limit > 0) || start + limit >= items.length) return { items: items.slice(start), meta: {} };
  const next: ContinueToken = { rv, start: start + limit };
  return {
    items: items.slice(start, start + limit),
    meta: {
      continue: Buffer.from(JSON.stringify(next)).toString('base64url'),
      remainingItemCount: items.length - start - limit,
    },
  };
}

function list(cluster: SimCluster, type: ResourceType, req: RestRequest): RestResponse {
  const key = storeKey(type);
  const filter = selectors(type, req.query);
  const rv = cluster.store.resourceVersion;
  const namespace = req.route.namespace;
  if (wantsTable(req.accept)) {
    const { items, meta } = page(cluster.store.list(key, namespace).filter(filter), req.query, rv);
    const include = (req.query.get('includeObject') ?? 'Metadata') as IncludeObject;
    const objects = items.map((o) => served(type, req.route.version, o));
    return json(200, buildTable(tableKind(type), objects, rv, cluster.timing.now(), include, meta));
  }
  const apiVersion = apiVersionOf(type, req.route.version);
  const itemsJson = type.custom
    ? cluster.store
        .list(key, namespace)
        .filter(filter)
        .map((o) => Buffer.from(JSON.stringify({ ...o, apiVersion })))
    : cluster.store.listJson(key, namespace, filter);
  const { items, meta } = page(itemsJson, req.query, rv);
  const head = JSON.stringify({
    kind: `${type.kind}List`,
    apiVersion,
    metadata: { resourceVersion: rv, ...meta },
  });
  const parts: Buffer[] = [Buffer.from(`${head.slice(0, -1)},"items":[`)];
  for (const [i, item] of items.entries()) {
    if (i > 0) parts.push(COMMA);
    parts.push(item);
  }
  parts.push(CLOSE);
  return { status: 200, body: Buffer.concat(parts) };
}

function existing(cluster: SimCluster, type: ResourceType, route: ResourceRoute): KubeObject {
  const object = cluster.store.get(storeKey(type), route.namespace, route.name!);
  if (!object) throw errors.notFound(type, route.name!);
  return object;
}

function getOne(cluster: SimCluster, type: ResourceType, req: RestRequest): RestResponse {
  const object = served(type, req.route.version, existing(cluster, type, req.route));
  if (wantsTable(req.accept)) {
    const include = (req.query.get('includeObject') ?? 'Metadata') as IncludeObject;
    return json(
      200,
      buildTable(tableKind(type), [object], cluster.store.resourceVersion, cluster.timing.now(), include),
    );
  }
  return json(200, object);
}

function parseBody(body: string): Json {
  try {
    const value = JSON.parse(body);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  throw errors.badRequest("Object 'Kind' is missing in the request body");
}

function invalidName(type: ResourceType): ApiError {
  return errors.invalid(type.kind, '', [
    {
      reason: 'FieldValueRequired',
      message: 'Required value: name or generateName is required',
      field: 'metadata.name',
    },
  ]);
}

/** Writes (or, for dryRun=All, only computes) the stored form of `object`. */
function commit(cluster: SimCluster, type: ResourceType, object: Json, dryRun: boolean): KubeObject {
  const { kind: _k, apiVersion, ...rest } = withDefaults(type.kind, object);
  const stored = (type.custom ? { apiVersion, kind: type.kind, ...rest } : rest) as KubeObject;
  if (dryRun) {
    return {
      ...stored,
      metadata: { uid: randomUUID(), creationTimestamp: new Date().toISOString(), ...stored.metadata },
    } as KubeObject;
  }
  return cluster.store.put(storeKey(type), stored, new Date(cluster.timing.now()));
}

function isDryRun(query: URLSearchParams): boolean {
  return query.getAll('dryRun').includes('All');
}

function create(cluster: SimCluster, type: ResourceType, req: RestRequest): RestResponse {
  const body = parseBody(req.body);
  const metadata: Json = { ...(body.metadata ?? {}) };
  if (!metadata.name && metadata.generateName)
    metadata.name = `${metadata.generateName}${kubeSuffix(randomUUID(), 5)}`;
  if (!metadata.name) throw invalidName(type);
  if (type.namespaced) {
    if (metadata.namespace && metadata.namespace !== req.route.namespace) {
      throw errors.badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    metadata.namespace = req.route.namespace;
    if (!cluster.get('namespaces', undefined, metadata.namespace)) {
      throw new ApiError(404, 'NotFound', `namespaces "${metadata.namespace}" not found`, {
        name: metadata.namespace,
        kind: 'namespaces',
      });
    }
  }
  if (cluster.store.get(storeKey(type), metadata.namespace, metadata.name)) {
    throw errors.alreadyExists(type, metadata.name);
  }
  delete metadata.resourceVersion;
  delete metadata.uid;
  delete metadata.creationTimestamp;
  if (body.spec !== undefined) metadata.generation = 1;
  const stored = commit(cluster, type, { ...body, metadata }, isDryRun(req.query));
  return json(201, served(type, req.route.version, stored));
}

/** generation counts spec changes, as for Deployments and custom resources. */
function withGeneration(before: KubeObject, after: Json): Json {
  if (after.spec === undefined) return after;
  const changed = JSON.stringify((before as Json).spec) !== JSON.stringify(after.spec);
  const generation = (before.metadata.generation ?? 1) + (changed ? 1 : 0);
  return { ...after, metadata: { ...after.metadata, generation } };
}

function keepIdentity(before: KubeObject, after: Json): Json {
  return {
    ...after,
    metadata: {
      ...after.metadata,
      name: before.metadata.name,
      ...(before.metadata.namespace ? { namespace: before.metadata.namespace } : {}),
      uid: before.metadata.uid,
      creationTimestamp: before.metadata.creationTimestamp,
    },
  };
}

function update(cluster: SimCluster, type: ResourceType, req: RestRequest): RestResponse {
  const body = parseBody(req.body);
  const name = req.route.name!;
  if (body.metadata?.name && body.metadata.name !== name) {
    throw errors.badRequest(
      `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  const before = existing(cluster, type, req.route);
  const rv = body.metadata?.resourceVersion;
  if (rv === undefined || rv === '') {
    if (type.custom) {
      throw errors.invalid(`${type.resource}.${type.group}`, name, [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: 0x0: must be specified for an update',
          field: 'metadata.resourceVersion',
        },
      ]);
    }
  } else if (rv !== before.metadata.resourceVersion) {
    throw errors.conflict(type, name);
  }
  const next = withGeneration(before, keepIdentity(before, body));
  const stored = commit(cluster, type, next, isDryRun(req.query));
  return json(200, served(type, req.route.version, stored));
}

function patch(cluster: SimCluster, type: ResourceType, req: RestRequest): RestResponse {
  const patchType = patchTypeOf(req.contentType);
  if (!patchType || (patchType === 'strategic' && type.custom)) throw errors.unsupportedMediaType();
  const body = parsePatchBody(patchType, req.body);
  const name = req.route.name!;
  const before = cluster.store.get(storeKey(type), req.route.namespace, name);
  const dryRun = isDryRun(req.query);

  if (patchType === 'apply') {
    const manager = req.query.get('fieldManager');
    if (!manager) {
      throw errors.invalid('PatchOptions.meta.k8s.io', '', [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: is required for apply patch',
          field: 'fieldManager',
        },
      ]);
    }
    const intent = body as Json;
    const entry = {
      manager,
      operation: 'Apply',
      apiVersion: apiVersionOf(type, req.route.version),
      time: new Date(cluster.timing.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
      fieldsType: 'FieldsV1',
      fieldsV1: {},
    };
    if (!before) {
      const metadata = { ...intent.metadata, name, namespace: req.route.namespace, managedFields: [entry] };
      if (intent.spec !== undefined) metadata.generation = 1;
      const stored = commit(cluster, type, { ...intent, metadata }, dryRun);
      return json(201, served(type, req.route.version, stored));
    }
    const merged = mergePatch(before, intent) as Json;
    const others = ((before.metadata.managedFields ?? []) as Json[]).filter((m) => m.manager !== manager);
    merged.metadata = { ...merged.metadata, managedFields: [...others, entry] };
    return finishPatch(cluster, type, req, before, merged, dryRun, intent.metadata?.resourceVersion);
  }

  if (!before) throw errors.notFound(type, name);
  let next: Json;
  if (patchType === 'json') {
    next = applyJsonPatch(before, body) as Json;
  } else {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw errors.badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
    }
    next = mergePatch(before, body) as Json;
  }
  return finishPatch(cluster, type, req, before, next, dryRun, next.metadata?.resourceVersion);
}

function finishPatch(
  cluster: SimCluster,
  type: ResourceType,
  req: RestRequest,
  before: KubeObject,
  next: Json,
  dryRun: boolean,
  requestedRv: unknown,
): RestResponse {
  // A patch that names a resourceVersion is a precondition, like a PUT.
  if (requestedRv !== undefined && requestedRv !== before.metadata.resourceVersion) {
    throw errors.conflict(type, req.route.name!);
  }
  const stored = commit(cluster, type, withGeneration(before, keepIdentity(before, next)), dryRun);
  return json(200, served(type, req.route.version, stored));
}

function remove(cluster: SimCluster, type: ResourceType, req: RestRequest): RestResponse {
  const before = existing(cluster, type, req.route);
  if (!isDryRun(req.query)) cluster.store.delete(storeKey(type), req.route.namespace, req.route.name!);
  if (type.custom) {
    return json(200, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name: before.metadata.name,
        group: type.group,
        kind: type.resource,
        uid: before.metadata.uid,
      },
    });
  }
  return json(200, served(type, req.route.version, before));
}

/** A label selector as its string form (labels.Selector.String(): requirements sorted by key). */
function selectorString(selector: Json | undefined): string {
  const parts: [string, string][] = Object.entries(
    (selector?.matchLabels ?? {}) as Record<string, string>,
  ).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of (selector?.matchExpressions ?? []) as {
    key: string;
    operator: string;
    values?: string[];
  }[]) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text =
      e.operator === 'In'
        ? `${e.key} in (${values})`
        : e.operator === 'NotIn'
          ? `${e.key} notin (${values})`
          : e.operator === 'Exists'
            ? e.key
            : `!${e.key}`;
    parts.push([e.key, text]);
  }
  return parts
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, text]) => text)
    .join(',');
}

function scaleOf(object: KubeObject): Json {
  const o = object as Json;
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 1 },
    status: { replicas: o.status?.replicas ?? 0, selector: selectorString(o.spec?.selector) },
  };
}

/**
 * The `scale` subresource (kubectl scale, autoscalers) as kube-apiserver serves it for Deployments, ReplicaSets
 * and StatefulSets: an autoscaling/v1 Scale read from the object; a PUT or a patch of it sets spec.replicas.
 */
function scale(cluster: SimCluster, type: ResourceType, req: RestRequest): RestResponse {
  if (req.route.name === undefined || req.route.namespace === undefined) throw errors.pathNotFound();
  const before = existing(cluster, type, req.route);
  const current = scaleOf(before);
  if (req.method === 'GET') return json(200, current);
  let wanted: Json;
  if (req.method === 'PUT') {
    wanted = parseBody(req.body);
    const rv = wanted.metadata?.resourceVersion;
    if (rv && rv !== before.metadata.resourceVersion) throw errors.conflict(type, req.route.name);
  } else if (req.method === 'PATCH') {
    const patchType = patchTypeOf(req.contentType);
    if (!patchType || patchType === 'apply') throw errors.unsupportedMediaType();
    const body = parsePatchBody(patchType, req.body);
    wanted = (patchType === 'json' ? applyJsonPatch(current, body) : mergePatch(current, body)) as Json;
  } else throw errors.methodNotAllowed(req.method, type);
  const replicas = wanted.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw errors.invalid('Scale', req.route.name, [
      {
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`,
        field: 'spec.replicas',
      },
    ]);
  }
  const next = withGeneration(before, { ...before, spec: { ...(before as Json).spec, replicas } });
  return json(200, scaleOf(commit(cluster, type, next, isDryRun(req.query))));
}
