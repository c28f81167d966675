import type {
  V1ConfigMap,
  V1Container,
  V1EndpointSlice,
  V1Endpoints,
  V1Namespace,
  V1Pod,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { type PodState, podState } from './pod-status.ts';

/**
 * The edge between cluster answers and the check: each Kubernetes object is reduced here to the
 * few typed facts the verdict uses, so everything after this file is plain data.
 */

export const PROXY = 'istio-proxy';

export interface PodFacts {
  state: PodState;
  labels: Record<string, string>;
  /** The Deployment (or other owner) the pod belongs to, stable across pod restarts. */
  workload: string;
  sidecar: 'ready' | 'unready' | 'missing';
  /** `sidecar.istio.io/inject: "false"`: deliberately outside the mesh. */
  optedOut: boolean;
  /** Control-plane addresses baked into the sidecar's arguments at injection, by flag name. */
  proxyArgs: Record<string, string>;
}

const PROXY_ADDRESS_FLAGS = ['discoveryAddress', 'zipkinAddress', 'statsdUdpAddress'] as const;

function proxyArgs(container: V1Container | undefined): Record<string, string> {
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

/** Deployment pods are owned by `<deployment>-<pod-template-hash>`; the hash changes on every rollout. */
function workloadOf(pod: V1Pod): string {
  const owner = pod.metadata?.ownerReferences?.[0];
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner?.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`))
    return owner.name.slice(0, -hash.length - 1);
  return owner?.name ?? pod.metadata?.name ?? '';
}

export function podFacts(pod: V1Pod, now: number): PodFacts {
  // Istio ≥1.19 may inject the proxy as a native sidecar (an init container that keeps running).
  const proxy =
    pod.spec?.containers.find((c) => c.name === PROXY) ??
    pod.spec?.initContainers?.find((c) => c.name === PROXY && c.restartPolicy === 'Always');
  const proxyStatus = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
  ].find((s) => s.name === PROXY);
  const inject =
    pod.metadata?.annotations?.['sidecar.istio.io/inject'] ??
    pod.metadata?.labels?.['sidecar.istio.io/inject'];
  return {
    state: podState(pod, now),
    labels: pod.metadata?.labels ?? {},
    workload: workloadOf(pod),
    sidecar: !proxy ? 'missing' : proxyStatus?.ready ? 'ready' : 'unready',
    optedOut: inject === 'false',
    proxyArgs: proxyArgs(proxy),
  };
}

export interface NamespaceFacts {
  name: string;
  /** Why the namespace is in the mesh, e.g. "istio-injection=enabled"; undefined when it is not. */
  injection?: string;
}

export function namespaceFacts(ns: V1Namespace): NamespaceFacts {
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

export function serviceFacts(svc: V1Service): ServiceFacts {
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
  /** Names the secret gives its clusters directly: its data keys and istioctl's annotation. */
  clusterNames: string[];
  /** Its values as text; a kubeconfig among them names its clusters too (parsed only when needed). */
  values: string[];
}

/** The cluster names inside a kubeconfig, or none when the text is not one. */
export function kubeconfigClusters(text: string): string[] {
  try {
    const doc = parseYaml(text) as { clusters?: { name?: unknown }[] } | null;
    return (doc?.clusters ?? []).map((c) => c.name).filter((n): n is string => typeof n === 'string');
  } catch {
    return [];
  }
}

export function secretFacts(secret: V1Secret): SecretFacts {
  const data = secret.data ?? {};
  const annotated = secret.metadata?.annotations?.['networking.istio.io/cluster'];
  return {
    name: secret.metadata?.name ?? '',
    clusterNames: [...Object.keys(data), ...(annotated ? [annotated] : [])],
    values: Object.values(data).map((b64) => Buffer.from(b64, 'base64').toString('utf8')),
  };
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
 * The mesh config changes only when someone re-installs the remote, while every status check (and every
 * scheduled one) reads it on every remote: parsing the same text again was the check's largest CPU cost.
 */
const parsedMesh = new Map<string, unknown>();
const PARSED_MESH_KEPT = 64;

function parseMesh(text: string): unknown {
  if (parsedMesh.has(text)) return parsedMesh.get(text);
  let mesh: unknown;
  try {
    mesh = parseYaml(text);
  } catch (err) {
    mesh = err instanceof Error ? err : new Error(String(err));
  }
  if (parsedMesh.size >= PARSED_MESH_KEPT) parsedMesh.delete(parsedMesh.keys().next().value!);
  parsedMesh.set(text, mesh);
  return mesh;
}

/** The remote's `istio` ConfigMap (key `mesh`, YAML) as the addresses it holds. */
export function meshConfigFacts(cm: V1ConfigMap | null, namespace: string): MeshConfigFacts {
  if (!cm) return { state: 'absent' };
  const text = cm.data?.mesh;
  if (text === undefined) return { state: 'invalid', reason: 'it has no "mesh" key' };
  const mesh = parseMesh(text);
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

/** The selector-less `istio-pilot` Endpoints the 1.0 chart writes when remotePilotCreateSvcEndpoint is set. */
export function endpointsAddresses(
  ep: V1Endpoints,
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

/** The remote `istiod` EndpointSlices of modern primary-remote, pointing at the east-west gateway. */
export function sliceAddresses(
  slices: V1EndpointSlice[],
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
