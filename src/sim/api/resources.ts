// The resource types a simulated cluster serves, with the identity discovery advertises.

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  /** Served versions, preferred first. */
  versions: readonly string[];
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: readonly string[];
  shortNames?: readonly string[];
  categories?: readonly string[];
  /** Field selectors beyond metadata.name and metadata.namespace. */
  fieldSelectors?: readonly string[];
  /** Custom resources: list items carry kind/apiVersion, PUT needs a resourceVersion, no strategic merge. */
  custom?: boolean;
  /**
   * A CRD that declares no additionalPrinterColumns (Istio 1.0.2's): the apiserver's Table is Name and Age
   * only, whatever columns a later version of the same kind declares.
   */
  defaultColumns?: boolean;
  /** Served subresources other than the REST verbs, e.g. `exec`. */
  subresources?: readonly {
    name: string;
    kind: string;
    /** Set when the subresource's kind lives in another API group (a Scale is autoscaling/v1). */
    group?: string;
    version?: string;
    verbs: readonly string[];
  }[];
}

/** kubectl scale and autoscalers read and write replicas through it; its Scale kind is autoscaling/v1. */
const SCALE: ResourceType['subresources'] = [
  { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
];

export const ALL_VERBS = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
] as const;

const CORE: ResourceType[] = [
  {
    group: '',
    versions: ['v1'],
    resource: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['ns'],
    fieldSelectors: ['status.phase'],
  },
  {
    group: '',
    versions: ['v1'],
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['po'],
    categories: ['all'],
    fieldSelectors: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    subresources: [
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    ],
  },
  {
    group: '',
    versions: ['v1'],
    resource: 'services',
    singular: 'service',
    kind: 'Service',
    namespaced: true,
    verbs: ALL_VERBS.filter((v) => v !== 'deletecollection'),
    shortNames: ['svc'],
    categories: ['all'],
  },
  {
    group: '',
    versions: ['v1'],
    resource: 'endpoints',
    singular: 'endpoints',
    kind: 'Endpoints',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['ep'],
  },
  {
    group: '',
    versions: ['v1'],
    resource: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['cm'],
  },
  {
    group: '',
    versions: ['v1'],
    resource: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    namespaced: true,
    verbs: ALL_VERBS,
    fieldSelectors: ['type'],
  },
];

const APPS: ResourceType[] = [
  {
    group: 'apps',
    versions: ['v1'],
    resource: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    verbs: ALL_VERBS,
    subresources: SCALE,
    shortNames: ['deploy'],
    categories: ['all'],
  },
  {
    group: 'apps',
    versions: ['v1'],
    resource: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
    verbs: ALL_VERBS,
    subresources: SCALE,
    shortNames: ['rs'],
    categories: ['all'],
  },
  {
    group: 'apps',
    versions: ['v1'],
    resource: 'daemonsets',
    singular: 'daemonset',
    kind: 'DaemonSet',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['ds'],
    categories: ['all'],
  },
];

const DISCOVERY: ResourceType = {
  group: 'discovery.k8s.io',
  versions: ['v1'],
  resource: 'endpointslices',
  singular: 'endpointslice',
  kind: 'EndpointSlice',
  namespaced: true,
  verbs: ALL_VERBS,
};

/**
 * The CRDs a scenario installs, as objects. Read-only here: a CRD written through the API would not change
 * what the cluster serves, so writes answer 405 rather than pretend.
 */
const APIEXTENSIONS: ResourceType = {
  group: 'apiextensions.k8s.io',
  versions: ['v1'],
  resource: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  kind: 'CustomResourceDefinition',
  namespaced: false,
  verbs: ['get', 'list', 'watch'],
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
};

export const CRD_KEY = 'customresourcedefinitions.apiextensions.k8s.io';

const RBAC: ResourceType[] = [
  ['roles', 'role', 'Role', true],
  ['rolebindings', 'rolebinding', 'RoleBinding', true],
  ['clusterroles', 'clusterrole', 'ClusterRole', false],
  ['clusterrolebindings', 'clusterrolebinding', 'ClusterRoleBinding', false],
].map(([resource, singular, kind, namespaced]) => ({
  group: 'rbac.authorization.k8s.io',
  versions: ['v1'],
  resource: resource as string,
  singular: singular as string,
  kind: kind as string,
  namespaced: namespaced as boolean,
  verbs: ALL_VERBS,
}));

export const RBAC_KINDS = RBAC.map((t) => t.kind);

function istio(versions: readonly string[]): ResourceType[] {
  const common = {
    group: 'networking.istio.io',
    versions,
    namespaced: true,
    verbs: ALL_VERBS,
    categories: ['istio-io', 'networking-istio-io'],
    custom: true,
  };
  return [
    {
      ...common,
      resource: 'virtualservices',
      singular: 'virtualservice',
      kind: 'VirtualService',
      shortNames: ['vs'],
    },
    {
      ...common,
      resource: 'destinationrules',
      singular: 'destinationrule',
      kind: 'DestinationRule',
      shortNames: ['dr'],
    },
  ];
}

export interface ResourceRegistry {
  readonly all: readonly ResourceType[];
  find(group: string, version: string, resource: string): ResourceType | undefined;
  byKind(kind: string): ResourceType | undefined;
}

/**
 * Istio 1.22+ serves networking.istio.io at v1, v1beta1 and v1alpha3 (`istioVersions`); a scenario whose
 * cluster runs an older chart passes none and serves its CRDs instead (`custom`).
 */
export function createRegistry(
  istioVersions: readonly string[],
  custom: readonly ResourceType[] = [],
): ResourceRegistry {
  const all = [
    ...CORE,
    ...APPS,
    DISCOVERY,
    ...RBAC,
    APIEXTENSIONS,
    ...(istioVersions.length > 0 ? istio(istioVersions) : []),
    ...custom,
  ];
  return {
    all,
    find: (group, version, resource) =>
      all.find((t) => t.group === group && t.resource === resource && t.versions.includes(version)),
    byKind: (kind) => all.find((t) => t.kind === kind),
  };
}

export function apiVersionOf(type: ResourceType, version: string): string {
  return type.group ? `${type.group}/${version}` : version;
}

/** Store key: one bucket per resource regardless of the version it was written at. */
export function storeKey(type: Pick<ResourceType, 'group' | 'resource'>): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}
