import { parse as parseYaml } from 'yaml';
import { type PodState, type PodStateShape, podState } from './pod-status.ts';
import { type DeploymentShape, type RolloutState, rolloutState } from './rollout.ts';

/**
 * The edge between cluster answers and the check: each Kubernetes object is reduced here to the
 * few typed facts the verdict uses, so everything after this file is plain data.
 */

export const PROXY = 'istio-proxy';
export const MULTICLUSTER_LABEL = 'istio/multiCluster';

export interface PodFacts {
  state: PodState;
  labels: Record<string, string>;
  /** The Deployment (or other owner) the pod belongs to, stable across pod restarts. */
  workload: string;
  /** How to recreate the pods of `workload`: `deployment`, `daemonset`, `statefulset`; absent for a bare pod or Job. */
  restartKind?: 'deployment' | 'daemonset' | 'statefulset';
  sidecar: 'ready' | 'unready' | 'missing';
  /** `sidecar.istio.io/inject: "false"`: deliberately outside the mesh. */
  optedOut: boolean;
  /** Shares its node's network: Istio's injector never adds a sidecar to it (pilot/pkg/kube/inject/webhook.go). */
  hostNetwork: boolean;
  /** One of the VPN pods meshops is configured with: the IPsec gateway must never get a sidecar. */
  vpnGateway?: boolean;
  /** Control-plane addresses baked into the sidecar's arguments at injection, by flag name. */
  proxyArgs: Record<string, string>;
  /** Image of each container (and native sidecar), by container name. */
  images: Record<string, string>;
}

const PROXY_ADDRESS_FLAGS = ['discoveryAddress', 'zipkinAddress', 'statsdUdpAddress'] as const;

function proxyArgs(container: ContainerShape | undefined): Record<string, string> {
  const args = [...(container?.command ?? []), ...(container?.args ?? [])];
  const out: Record<string, string> = {};
  args.forEach((arg, i) => {
    for (const flag of PROXY_ADDRESS_FLAGS) {
      if (arg === `--${flag}` && args[i + 1] !== undefined) out[flag] = args[i + 1]!;
      else if (arg.startsWith(`--${flag}=`)) out[flag] = arg.slice(flag.length + 3);
    }
  });
  return out;
}

const RESTART_KIND = {
  ReplicaSet: 'deployment',
  DaemonSet: 'daemonset',
  StatefulSet: 'statefulset',
} as const;

/** The pod fields the owner and the proxy are read from: client-node's V1Pod and plain pod JSON both fit. */
export interface PodOwnerShape {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    ownerReferences?: readonly { kind: string; name: string }[];
  };
  spec?: {
    containers?: readonly { name: string }[];
    initContainers?: readonly { name: string; restartPolicy?: string }[];
  };
}

/** Deployment pods are owned by `<deployment>-<pod-template-hash>`; the hash changes on every rollout. */
export function workloadOf(pod: PodOwnerShape): string {
  const owner = pod.metadata?.ownerReferences?.[0];
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner?.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`))
    return owner.name.slice(0, -hash.length - 1);
  return owner?.name ?? pod.metadata?.name ?? '';
}

/** The pod's istio-proxy container: Istio ≥1.19 may inject it as a native sidecar (an init container that keeps running). */
export function proxyContainer<C extends { name: string; restartPolicy?: string }>(spec?: {
  containers?: readonly C[];
  initContainers?: readonly C[];
}): C | undefined {
  return (
    spec?.containers?.find((c) => c.name === PROXY) ??
    spec?.initContainers?.find((c) => c.name === PROXY && c.restartPolicy === 'Always')
  );
}

interface ContainerShape {
  name: string;
  image?: string;
  command?: readonly string[];
  args?: readonly string[];
  restartPolicy?: string;
}

/** The pod fields PodFacts are read from: client-node's V1Pod and the API server's plain JSON both fit. */
export interface PodFactsShape extends PodStateShape {
  metadata?: PodStateShape['metadata'] & PodOwnerShape['metadata'] & { annotations?: Record<string, string> };
  spec?: {
    containers?: readonly ContainerShape[];
    initContainers?: readonly ContainerShape[];
    hostNetwork?: boolean;
  };
}

export function podFacts(pod: PodFactsShape, now: number): PodFacts {
  const proxy = proxyContainer(pod.spec);
  const proxyStatus = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
  ].find((s) => s.name === PROXY);
  const inject =
    pod.metadata?.annotations?.['sidecar.istio.io/inject'] ??
    pod.metadata?.labels?.['sidecar.istio.io/inject'];
  const owner = pod.metadata?.ownerReferences?.[0]?.kind;
  const restartKind =
    owner && owner in RESTART_KIND ? RESTART_KIND[owner as keyof typeof RESTART_KIND] : undefined;
  return {
    state: podState(pod, now),
    labels: pod.metadata?.labels ?? {},
    workload: workloadOf(pod),
    ...(restartKind ? { restartKind } : {}),
    sidecar: !proxy ? 'missing' : proxyStatus?.ready ? 'ready' : 'unready',
    optedOut: inject === 'false',
    hostNetwork: pod.spec?.hostNetwork === true,
    proxyArgs: proxyArgs(proxy),
    images: Object.fromEntries(
      [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c) => [
        c.name,
        c.image ?? '',
      ]),
    ),
  };
}

export interface NamespaceFacts {
  name: string;
  /** Why the namespace is in the mesh, e.g. "istio-injection=enabled"; undefined when it is not. */
  injection?: string;
}

/** The namespace fields NamespaceFacts are read from (client-node's V1Namespace and plain JSON both fit). */
export interface NamespaceShape {
  metadata?: { name?: string; labels?: Record<string, string> };
}

export function namespaceFacts(ns: NamespaceShape): NamespaceFacts {
  const labels = ns.metadata?.labels ?? {};
  const name = ns.metadata?.name ?? '';
  if (labels['istio-injection'] === 'enabled') return { name, injection: 'istio-injection=enabled' };
  // An explicit `istio-injection=disabled` wins over a revision label, as in Istio's own webhook selectors.
  if (labels['istio.io/rev'] !== undefined && labels['istio-injection'] !== 'disabled')
    return { name, injection: `istio.io/rev=${labels['istio.io/rev']}` };
  return { name };
}

export interface ServiceFacts {
  name: string;
  type: string;
  selector: Record<string, string>;
  /** ClusterIP and LoadBalancer ingress IPs and hostnames: addresses that survive pod restarts. */
  addresses: string[];
  /** LoadBalancer ingress alone: what another network reaches (the east-west gateway). */
  external: string[];
}

/** The Service fields ServiceFacts are read from. */
export interface ServiceShape {
  metadata?: { name?: string };
  spec?: { type?: string; selector?: Record<string, string>; clusterIP?: string; externalName?: string };
  status?: { loadBalancer?: { ingress?: readonly { ip?: string; hostname?: string }[] } };
}

export function serviceFacts(svc: ServiceShape): ServiceFacts {
  const external = (svc.status?.loadBalancer?.ingress ?? [])
    .flatMap((i) => [i.ip, i.hostname])
    .filter((a): a is string => Boolean(a));
  const clusterIp = svc.spec?.clusterIP;
  return {
    name: svc.metadata?.name ?? '',
    type: svc.spec?.type ?? 'ClusterIP',
    selector: svc.spec?.selector ?? {},
    addresses: [...(clusterIp && clusterIp !== 'None' ? [clusterIp] : []), ...external],
    external,
  };
}

/** A Service selects a pod when its selector is a non-empty subset of the pod's labels. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

export interface SecretFacts {
  name: string;
  /** Pilot watches only secrets labelled istio/multiCluster=true (secretcontroller.go). */
  labelled: boolean;
  /** The API servers its kubeconfigs point at (each one's current context, else every cluster in it). */
  servers: string[];
}

/**
 * A kubeconfig's API servers, never its credentials: the facts hold no token, so no report, log line or
 * Slack message built from them can carry one.
 */
export function kubeconfigServers(text: string): string[] {
  const doc = parseYamlCached(text);
  if (doc instanceof Error || doc === null || typeof doc !== 'object') return [];
  const config = doc as {
    clusters?: { name?: unknown; cluster?: { server?: unknown } }[];
    contexts?: { name?: unknown; context?: { cluster?: unknown } }[];
    'current-context'?: unknown;
  };
  const clusters = Array.isArray(config.clusters) ? config.clusters : [];
  const current = (Array.isArray(config.contexts) ? config.contexts : []).find(
    (c) => c.name === config['current-context'],
  )?.context?.cluster;
  const chosen = clusters.filter((c) => current === undefined || c.name === current);
  return (chosen.length > 0 ? chosen : clusters)
    .map((c) => c.cluster?.server)
    .filter((s): s is string => typeof s === 'string');
}

/** The Secret fields SecretFacts are read from: its values stay base64 until a kubeconfig is looked for in them. */
export interface SecretShape {
  metadata?: { name?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

export function secretFacts(secret: SecretShape): SecretFacts {
  const values = Object.values(secret.data ?? {}).map((b64) => Buffer.from(b64, 'base64').toString('utf8'));
  return {
    name: secret.metadata?.name ?? '',
    labelled: secret.metadata?.labels?.[MULTICLUSTER_LABEL] === 'true',
    servers: [...new Set(values.flatMap(kubeconfigServers))],
  };
}

/** Two API server URLs name the same server when scheme, host and port agree (a trailing slash aside). */
export function sameServer(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const path = (u: URL) => u.pathname.replace(/\/+$/, '');
    return x.protocol === y.protocol && x.host === y.host && path(x) === path(y);
  } catch {
    return a === b;
  }
}

/** An address the remote was given for a primary component, and where it is written. */
export interface ConfiguredAddress {
  component: string;
  /** e.g. "ConfigMap istio-system/istio" or "Pod default/reviews-v3-…" */
  object: string;
  /** e.g. "mesh: defaultConfig.discoveryAddress" */
  field: string;
  /** As written, e.g. "10.1.0.23:15007". */
  value: string;
  /** The host part compared with the live addresses. */
  host: string;
}

/** Istio 1.0 mesh config fields the istio-remote chart fills with primary pod IPs (its
 * templates/configmap.yaml in istio/istio 1.0.2). */
export const MESH_ADDRESS_FIELDS = [
  { path: ['defaultConfig', 'discoveryAddress'], component: 'pilot' },
  { path: ['mixerCheckServer'], component: 'policy' },
  { path: ['mixerReportServer'], component: 'telemetry' },
  { path: ['defaultConfig', 'zipkinAddress'], component: 'tracing' },
  { path: ['defaultConfig', 'statsdUdpAddress'], component: 'statsd-prom-bridge' },
] as const;

/** The sidecar flags that carry the same addresses into every injected pod. */
export const PROXY_FLAG_COMPONENT: Record<(typeof PROXY_ADDRESS_FLAGS)[number], string> = {
  discoveryAddress: 'pilot',
  zipkinAddress: 'tracing',
  statsdUdpAddress: 'statsd-prom-bridge',
};

/** "10.1.0.23:15007" → "10.1.0.23"; "[::1]:15007" → "::1". */
export function hostOf(address: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1]!;
  const colon = address.lastIndexOf(':');
  return colon > 0 && address.indexOf(':') === colon ? address.slice(0, colon) : address;
}

export const isIp = (host: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');

export type MeshConfigFacts =
  | { state: 'absent' }
  | { state: 'invalid'; reason: string }
  | { state: 'ok'; addresses: ConfiguredAddress[] };

/**
 * The mesh config and the remote secrets change only when someone re-installs the remote, while every
 * status check (and every scheduled one) reads them on every cluster: parsing the same text again was the
 * check's largest CPU cost.
 */
const parsedYaml = new Map<string, unknown>();
const PARSED_YAML_KEPT = 64;

function parseYamlCached(text: string): unknown {
  if (parsedYaml.has(text)) return parsedYaml.get(text);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    doc = err instanceof Error ? err : new Error(String(err));
  }
  if (parsedYaml.size >= PARSED_YAML_KEPT) parsedYaml.delete(parsedYaml.keys().next().value!);
  parsedYaml.set(text, doc);
  return doc;
}

export interface ConfigMapShape {
  metadata?: { name?: string };
  data?: Record<string, string>;
}

/** The remote's `istio` ConfigMap (key `mesh`, YAML) as the addresses it holds. */
export function meshConfigFacts(cm: ConfigMapShape | null, namespace: string): MeshConfigFacts {
  if (!cm) return { state: 'absent' };
  const text = cm.data?.mesh;
  if (text === undefined) return { state: 'invalid', reason: 'it has no "mesh" key' };
  const mesh = parseYamlCached(text);
  if (mesh instanceof Error)
    return { state: 'invalid', reason: `its "mesh" key is not YAML: ${mesh.message.split('\n')[0]}` };
  const addresses: ConfiguredAddress[] = [];
  for (const { path, component } of MESH_ADDRESS_FIELDS) {
    let value: unknown = mesh;
    for (const key of path) value = (value as Record<string, unknown> | null)?.[key];
    if (typeof value !== 'string' || value === '') continue;
    addresses.push({
      component,
      object: `ConfigMap ${namespace}/${cm.metadata?.name ?? 'istio'}`,
      field: `mesh: ${path.join('.')}`,
      value,
      host: hostOf(value),
    });
  }
  return { state: 'ok', addresses };
}

export interface EndpointsShape {
  metadata?: { name?: string };
  subsets?: readonly { addresses?: readonly { ip: string }[] }[];
}

/** The selector-less `istio-pilot` Endpoints the 1.0 chart writes when remotePilotCreateSvcEndpoint is set. */
export function endpointsAddresses(
  ep: EndpointsShape,
  namespace: string,
  component: string,
): ConfiguredAddress[] {
  const name = ep.metadata?.name ?? '';
  return (ep.subsets ?? []).flatMap((subset, s) =>
    (subset.addresses ?? []).map((a, i) => ({
      component,
      object: `Endpoints ${namespace}/${name}`,
      field: `subsets[${s}].addresses[${i}].ip`,
      value: a.ip,
      host: a.ip,
    })),
  );
}

export interface EndpointSliceShape {
  metadata?: { name?: string; labels?: Record<string, string> };
  /** IPv4, IPv6 or FQDN: each address is taken as written, whichever the type. */
  addressType?: string;
  endpoints?: readonly { addresses: readonly string[] }[] | null;
}

/** The remote `istiod` EndpointSlices of modern primary-remote, pointing at the east-west gateway. */
export function sliceAddresses(
  slices: readonly EndpointSliceShape[],
  namespace: string,
  component: string,
): ConfiguredAddress[] {
  return slices.flatMap((slice) =>
    (slice.endpoints ?? []).flatMap((ep, e) =>
      ep.addresses.map((address, i) => ({
        component,
        object: `EndpointSlice ${namespace}/${slice.metadata?.name ?? ''}`,
        field: `endpoints[${e}].addresses[${i}]`,
        value: address,
        host: address,
      })),
    ),
  );
}

/**
 * Deployments and DaemonSets against what they ask for: a workload whose controller cannot create its pods
 * shows no pod at all, so pod status never mentions it; only the controller's counts do.
 */
export interface WorkloadFacts {
  kind: 'Deployment' | 'DaemonSet';
  namespace: string;
  name: string;
  desired: number;
  available: number;
  /** Pods the controller has created (status.replicas / currentNumberScheduled). */
  created: number;
  /** The controller's ReplicaFailure message (e.g. an admission webhook refused the pod), when it set one. */
  failure?: string;
}

/** The fields a DaemonSet's counts are read from (Deployments': DeploymentShape). */
export interface DaemonSetShape {
  metadata?: { name?: string; namespace?: string };
  status?: { desiredNumberScheduled?: number; numberAvailable?: number; currentNumberScheduled?: number };
}

export type WorkloadShape =
  | { kind: 'Deployment'; object: DeploymentShape }
  | { kind: 'DaemonSet'; object: DaemonSetShape };

/** Both controllers' counts under the same three names; only a Deployment reports a ReplicaFailure. */
function counts(w: WorkloadShape): Pick<WorkloadFacts, 'desired' | 'available' | 'created' | 'failure'> {
  if (w.kind === 'DaemonSet') {
    const s = w.object.status;
    return {
      desired: s?.desiredNumberScheduled ?? 0,
      available: s?.numberAvailable ?? 0,
      created: s?.currentNumberScheduled ?? 0,
    };
  }
  const d = w.object;
  const failure = d.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  return {
    desired: d.spec?.replicas ?? 1,
    available: d.status?.availableReplicas ?? 0,
    created: d.status?.replicas ?? 0,
    ...(failure?.message ? { failure: failure.message } : {}),
  };
}

export function workloadFacts(w: WorkloadShape): WorkloadFacts {
  return {
    kind: w.kind,
    namespace: w.object.metadata?.namespace ?? '',
    name: w.object.metadata?.name ?? '',
    ...counts(w),
  };
}

/** A control-plane Deployment: which pods it makes (its template's labels) and where its rollout stands. */
export interface RolloutFacts {
  name: string;
  templateLabels: Record<string, string>;
  rollout: RolloutState;
}

export function rolloutFacts(d: DeploymentShape): RolloutFacts {
  return {
    name: d.metadata?.name ?? '',
    templateLabels: d.spec?.template?.metadata?.labels ?? {},
    rollout: rolloutState(d),
  };
}
