// meta.k8s.io/v1 Table responses: what `kubectl get` asks for (Accept: …;as=Table) and prints.
// Columns follow the apiserver's printers for built-in kinds and the Istio CRDs'
// additionalPrinterColumns for VirtualService and DestinationRule.

import type { Json, KubeObject } from '../cluster/store.ts';
import { type PodLike, podCells, podWideCells, translateTimestampSince } from './pod-printer.ts';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
  cell: (obj: KubeObject, now: number) => unknown;
}

const col = (
  name: string,
  cell: Column['cell'],
  options: Partial<Pick<Column, 'type' | 'format' | 'priority' | 'description'>> = {},
): Column => ({ type: 'string', format: '', description: name, priority: 0, ...options, name, cell });

const nameColumn = col('Name', (o) => o.metadata.name, {
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.',
});
const ageColumn = col('Age', (o, now) => translateTimestampSince(o.metadata.creationTimestamp, now), {
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
});

function servicePorts(o: Json): string {
  const ports: Json[] = o.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function externalIp(o: Json): string {
  const type = o.spec?.type ?? 'ClusterIP';
  const ingress: Json[] = o.status?.loadBalancer?.ingress ?? [];
  const external: string[] = o.spec?.externalIPs ?? [];
  if (type === 'ExternalName') return o.spec?.externalName ?? '<none>';
  if (type === 'LoadBalancer') {
    const ips = [...ingress.map((i) => i.ip ?? i.hostname), ...external];
    return ips.length > 0 ? ips.join(',') : '<pending>';
  }
  return external.length > 0 ? external.join(',') : '<none>';
}

function endpointsText(o: Json): string {
  const pairs: string[] = [];
  for (const subset of (o.subsets ?? []) as Json[]) {
    for (const address of (subset.addresses ?? []) as Json[]) {
      for (const port of (subset.ports ?? [{}]) as Json[]) {
        pairs.push(port.port === undefined ? address.ip : `${address.ip}:${port.port}`);
      }
    }
  }
  if (pairs.length === 0) return '<none>';
  if (pairs.length <= 3) return pairs.join(',');
  return `${pairs.slice(0, 3).join(',')} + ${pairs.length - 3} more...`;
}

const jsonCell = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

/** The table key of a custom resource whose CRD declares no printer columns (no kind is spelled so). */
export const CRD_DEFAULT_COLUMNS = 'custom resource, default columns';

const COLUMNS: Record<string, Column[]> = {
  Namespace: [nameColumn, col('Status', (o: Json) => o.status?.phase ?? 'Active'), ageColumn],
  Service: [
    nameColumn,
    col('Type', (o: Json) => o.spec?.type ?? 'ClusterIP'),
    col('Cluster-IP', (o: Json) => o.spec?.clusterIP ?? '<none>'),
    col('External-IP', (o: Json) => externalIp(o)),
    col('Port(s)', (o: Json) => servicePorts(o)),
    ageColumn,
    col(
      'Selector',
      (o: Json) =>
        Object.entries(o.spec?.selector ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',') || '<none>',
      { priority: 1 },
    ),
  ],
  Endpoints: [nameColumn, col('Endpoints', (o: Json) => endpointsText(o)), ageColumn],
  ConfigMap: [
    nameColumn,
    col('Data', (o: Json) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, {
      type: 'integer',
    }),
    ageColumn,
  ],
  Secret: [
    nameColumn,
    col('Type', (o: Json) => o.type ?? 'Opaque'),
    col('Data', (o: Json) => Object.keys(o.data ?? {}).length, { type: 'integer' }),
    ageColumn,
  ],
  Deployment: [
    nameColumn,
    col('Ready', (o: Json) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`),
    col('Up-to-date', (o: Json) => o.status?.updatedReplicas ?? 0, { type: 'integer' }),
    col('Available', (o: Json) => o.status?.availableReplicas ?? 0, { type: 'integer' }),
    ageColumn,
  ],
  DaemonSet: [
    nameColumn,
    col('Desired', (o: Json) => o.status?.desiredNumberScheduled ?? 0, { type: 'integer' }),
    col('Current', (o: Json) => o.status?.currentNumberScheduled ?? 0, { type: 'integer' }),
    col('Ready', (o: Json) => o.status?.numberReady ?? 0, { type: 'integer' }),
    col('Up-to-date', (o: Json) => o.status?.updatedNumberScheduled ?? 0, { type: 'integer' }),
    col('Available', (o: Json) => o.status?.numberAvailable ?? 0, { type: 'integer' }),
    ageColumn,
  ],
  EndpointSlice: [
    nameColumn,
    col('AddressType', (o: Json) => o.addressType),
    col('Ports', (o: Json) => ((o.ports ?? []) as Json[]).map((p) => p.port).join(',') || '<unset>'),
    col(
      'Endpoints',
      (o: Json) => ((o.endpoints ?? []) as Json[]).flatMap((e) => e.addresses ?? []).join(',') || '<unset>',
    ),
    ageColumn,
  ],
  // k8s.io/apiserver's default table convertor: the creation time as RFC 3339, not an age.
  CustomResourceDefinition: [
    nameColumn,
    col('Created At', (o) => o.metadata.creationTimestamp, {
      type: 'date',
      description:
        'CreationTimestamp is a timestamp representing the server time when this object was created.',
    }),
  ],
  ReplicaSet: [
    nameColumn,
    col('Desired', (o: Json) => o.spec?.replicas ?? 0, { type: 'integer' }),
    col('Current', (o: Json) => o.status?.replicas ?? 0, { type: 'integer' }),
    col('Ready', (o: Json) => o.status?.readyReplicas ?? 0, { type: 'integer' }),
    ageColumn,
  ],
  // A CustomResourceDefinition without additionalPrinterColumns: the apiextensions server's default.
  [CRD_DEFAULT_COLUMNS]: [nameColumn, { ...ageColumn, type: 'date' }],
  VirtualService: [
    nameColumn,
    col('Gateways', (o: Json) => jsonCell(o.spec?.gateways), {
      description: 'The names of gateways and sidecars that should apply these routes',
    }),
    col('Hosts', (o: Json) => jsonCell(o.spec?.hosts), {
      description: 'The destination hosts to which traffic is being sent',
    }),
    { ...ageColumn, type: 'date' },
  ],
  DestinationRule: [
    nameColumn,
    col('Host', (o: Json) => o.spec?.host ?? null, {
      description: 'The name of a service from the service registry',
    }),
    { ...ageColumn, type: 'date' },
  ],
};

const POD_COLUMNS = ['Ready', 'Status', 'Restarts', 'Age'];
const POD_WIDE_COLUMNS = ['IP', 'Node', 'Nominated Node', 'Readiness Gates'];

const POD_COMPLETED_CONDITION = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const POD_FAILED_CONDITION = [
  { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
];

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

function podRow(obj: KubeObject, now: number, include: IncludeObject) {
  const pod = obj as unknown as PodLike;
  const phase = pod.status?.phase;
  return {
    cells: [...podCells(pod, now), ...podWideCells(pod)],
    ...(phase === 'Succeeded' ? { conditions: POD_COMPLETED_CONDITION } : {}),
    ...(phase === 'Failed' ? { conditions: POD_FAILED_CONDITION } : {}),
    object: rowObject(obj, include),
  };
}

export function buildTable(
  kind: string,
  objects: readonly KubeObject[],
  resourceVersion: string,
  now: number,
  include: IncludeObject = 'Metadata',
  listMeta: Record<string, unknown> = {},
) {
  let columnDefinitions: Omit<Column, 'cell'>[];
  let rows: unknown[];
  if (kind === 'Pod') {
    columnDefinitions = [
      nameColumn,
      ...POD_COLUMNS.map((name) => col(name, () => '')),
      ...POD_WIDE_COLUMNS.map((name) => col(name, () => '', { priority: 1 })),
    ].map(({ cell: _cell, ...rest }) => rest);
    rows = objects.map((o) => podRow(o, now, include));
  } else {
    const columns = COLUMNS[kind] ?? [nameColumn, ageColumn];
    columnDefinitions = columns.map(({ cell: _cell, ...rest }) => rest);
    rows = objects.map((o) => ({ cells: columns.map((c) => c.cell(o, now)), object: rowObject(o, include) }));
  }
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...listMeta },
    columnDefinitions,
    rows,
  };
}
