import type { IstioProfile } from '../../config/schema.ts';
import { type PodStateShape, podState } from '../istio/pod-status.ts';
import { containingCidr } from './ipv4.ts';
import type { PortSpec, ProbeTarget } from './report.ts';

/**
 * Which pod IPs are worth a ping, chosen from live pods: the primary's control-plane pods that remote
 * sidecars dial directly, and one ready pod per app on a remote. Pure: the pods come in as PodInfo.
 */

export interface PodInfo {
  namespace: string;
  name: string;
  ip?: string;
  /** Running with every container ready. */
  ready: boolean;
  /** kubectl's STATUS column, for saying why a pod cannot be used. */
  status: string;
  labels: Record<string, string>;
  hostNetwork: boolean;
  nodeName?: string;
  containers: string[];
}

/** A pod as the API server sends it, reduced to what choosing probe pods and targets reads. */
export interface PodInfoShape extends PodStateShape {
  metadata?: PodStateShape['metadata'] & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: readonly { kind: string; name: string }[];
  };
  spec?: Omit<NonNullable<PodStateShape['spec']>, 'containers'> & {
    hostNetwork?: boolean;
    nodeName?: string;
    containers?: readonly { name: string }[];
  };
}

export function podInfo(pod: PodInfoShape, now: number): PodInfo {
  const state = podState(pod, now);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ...(state.ip ? { ip: state.ip } : {}),
    ready: state.healthy && !state.completed,
    status: `${state.status} ${state.ready}`,
    labels: pod.metadata?.labels ?? {},
    hostNetwork: pod.spec?.hostNetwork === true,
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    containers: (pod.spec?.containers ?? []).map((c) => c.name),
  };
}

const byName = (a: PodInfo, b: PodInfo) =>
  a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

/** The first ready pod with an IP (by name, so runs agree); otherwise the pod that explains why none is usable. */
export function pickPod(pods: readonly PodInfo[]): { ready: PodInfo } | { unready?: PodInfo } {
  const sorted = [...pods].sort(byName);
  const ready = sorted.find((p) => p.ready && p.ip);
  return ready ? { ready } : sorted[0] ? { unready: sorted[0] } : {};
}

/**
 * One ready pod per node with `container` (by name, so runs agree), for probes that start where app traffic
 * starts. Host-network pods are left out: they use the node's routes, not the pod network's.
 */
export function nodeProbePods(
  pods: readonly PodInfo[],
  container: string,
  exclude: readonly { namespace: string; name: string }[],
): PodInfo[] {
  const skip = new Set(exclude.map((p) => `${p.namespace}/${p.name}`));
  const byNode = new Map<string, PodInfo>();
  for (const pod of [...pods].sort(byName)) {
    if (!pod.ready || !pod.ip || !pod.nodeName || pod.hostNetwork) continue;
    if (!pod.containers.includes(container) || skip.has(`${pod.namespace}/${pod.name}`)) continue;
    if (!byNode.has(pod.nodeName)) byNode.set(pod.nodeName, pod);
  }
  return [...byNode.values()].sort((a, b) => a.nodeName!.localeCompare(b.nodeName!));
}

/**
 * The ports a remote's sidecars open to each control-plane component across the VPN (research istio-vpn.md
 * §4): pilot's xDS plain and mTLS, mixer's gRPC, statsd (UDP), zipkin; istiod's xDS plain and TLS.
 */
export const CONTROL_PLANE_PORTS: Readonly<Record<string, readonly PortSpec[]>> = {
  pilot: [
    { port: 15010, protocol: 'TCP' },
    { port: 15011, protocol: 'TCP' },
  ],
  policy: [{ port: 9091, protocol: 'TCP' }],
  telemetry: [{ port: 9091, protocol: 'TCP' }],
  'statsd-prom-bridge': [{ port: 9125, protocol: 'UDP' }],
  tracing: [{ port: 9411, protocol: 'TCP' }],
  istiod: [
    { port: 15010, protocol: 'TCP' },
    { port: 15012, protocol: 'TCP' },
  ],
};

/** The primary components a remote's sidecars reach by pod IP across the VPN (the addresses
 * the istio-remote chart writes, install/kubernetes/helm/istio-remote in istio/istio 1.0.2). */
export const SIDECAR_NEEDS: Record<IstioProfile, readonly string[]> = {
  'istio-1.0': ['pilot', 'policy', 'telemetry', 'statsd-prom-bridge', 'tracing'],
  modern: ['istiod', 'eastwestgateway'],
};

export interface ComponentPods {
  component: string;
  pods: readonly PodInfo[];
}

export interface TargetChoice {
  targets: ProbeTarget[];
  /** Components or namespaces with nothing to ping, in words. */
  skipped: string[];
}

function target(cluster: string, cidrs: readonly string[], label: string, pod: PodInfo): ProbeTarget {
  const cidr = containingCidr(cidrs, pod.ip!);
  return {
    cluster,
    ip: pod.ip!,
    label,
    pod: { namespace: pod.namespace, name: pod.name },
    ...(cidr ? { cidr } : {}),
    ...(pod.nodeName ? { node: pod.nodeName } : {}),
  };
}

/** Every ready pod of each component; a second replica of pilot is "pilot#2". */
export function controlPlaneTargets(
  cluster: string,
  cidrs: readonly string[],
  components: readonly ComponentPods[],
): TargetChoice {
  const targets: ProbeTarget[] = [];
  const skipped: string[] = [];
  for (const { component, pods } of components) {
    const ready = pods.filter((p) => p.ready && p.ip && !p.hostNetwork).sort(byName);
    if (ready.length === 0) skipped.push(`no ready ${component} pod on ${cluster}`);
    ready.forEach((pod, i) => {
      targets.push(target(cluster, cidrs, i === 0 ? component : `${component}#${i + 1}`, pod));
    });
  }
  return { targets, skipped };
}

const appOf = (labels: Record<string, string>) => labels.app ?? labels['app.kubernetes.io/name'];
const versionOf = (labels: Record<string, string>) => labels.version ?? labels['app.kubernetes.io/version'];

/**
 * One ready pod per app and version (reviews-v3), outside the system namespaces. Host-network pods are left
 * out: their IP is a node's.
 */
export function appTargets(
  cluster: string,
  cidrs: readonly string[],
  pods: readonly PodInfo[],
  skipNamespaces: ReadonlySet<string>,
): TargetChoice {
  const groups = new Map<string, { namespace: string; app: string; pods: PodInfo[] }>();
  for (const pod of pods) {
    const app = appOf(pod.labels);
    if (!app || skipNamespaces.has(pod.namespace) || pod.hostNetwork) continue;
    const version = versionOf(pod.labels);
    const name = version ? `${app}-${version}` : app;
    const key = `${pod.namespace}/${name}`;
    const group = groups.get(key) ?? { namespace: pod.namespace, app: name, pods: [] };
    group.pods.push(pod);
    groups.set(key, group);
  }
  const clash = new Map<string, number>();
  for (const g of groups.values()) clash.set(g.app, (clash.get(g.app) ?? 0) + 1);
  const targets: ProbeTarget[] = [];
  const skipped: string[] = [];
  for (const [key, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const label = (clash.get(group.app) ?? 0) > 1 ? key : group.app;
    const picked = pickPod(group.pods);
    if ('ready' in picked) targets.push(target(cluster, cidrs, label, picked.ready));
    else skipped.push(`no ready ${label} pod on ${cluster}`);
  }
  return { targets, skipped };
}

/** Leaves out the pods meshops itself uses on that cluster (strongSwan, probe): pinging them tests nothing new. */
export function withoutPods<T extends TargetChoice>(
  choice: T,
  pods: readonly { namespace: string; name: string }[],
): T {
  const used = new Set(pods.map((p) => `${p.namespace}/${p.name}`));
  return {
    ...choice,
    targets: choice.targets.filter((t) => !t.pod || !used.has(`${t.pod.namespace}/${t.pod.name}`)),
  };
}

export interface ServiceInfo {
  name: string;
  clusterIp?: string;
  selector: Record<string, string>;
  ports: readonly PortSpec[];
}

/** A Service as the API server sends it, reduced to its ClusterIP, selector and ports. */
export interface ServiceShape {
  metadata?: { name?: string };
  spec?: {
    clusterIP?: string;
    selector?: Record<string, string>;
    ports?: readonly { port: number; protocol?: string }[];
  };
}

export function serviceInfo(service: ServiceShape): ServiceInfo {
  const ip = service.spec?.clusterIP;
  return {
    name: service.metadata?.name ?? '',
    ...(ip && ip !== 'None' ? { clusterIp: ip } : {}),
    selector: service.spec?.selector ?? {},
    ports: (service.spec?.ports ?? []).map((p) => ({
      port: p.port,
      protocol: p.protocol === 'UDP' ? 'UDP' : 'TCP',
    })),
  };
}

/** A control-plane Service and the ports of CONTROL_PLANE_PORTS it serves, to check by its ClusterIP. */
export interface ServiceTarget {
  target: ProbeTarget;
  ports: readonly PortSpec[];
}

/**
 * The Services in front of each control-plane component whose ClusterIP lies in one of the cluster's
 * service CIDRs: a remote that reaches them through the tunnel dials the Service port, so only the
 * component's ports the Service exposes are checked. A Service with no selector, or whose IP is in no
 * configured service CIDR (no route into the tunnel), is left out.
 */
export function serviceTargets(
  cluster: string,
  serviceCidrs: readonly string[],
  components: readonly ComponentPods[],
  services: readonly ServiceInfo[],
): ServiceTarget[] {
  const found: ServiceTarget[] = [];
  for (const { component, pods } of components) {
    const wanted = CONTROL_PLANE_PORTS[component] ?? [];
    for (const s of [...services].sort((a, b) => a.name.localeCompare(b.name))) {
      const selector = Object.entries(s.selector);
      if (!s.clusterIp || selector.length === 0) continue;
      if (!pods.some((p) => selector.every(([k, v]) => p.labels[k] === v))) continue;
      const cidr = containingCidr(serviceCidrs, s.clusterIp);
      const ports = wanted.filter((w) => s.ports.some((p) => p.port === w.port && p.protocol === w.protocol));
      if (!cidr || ports.length === 0) continue;
      found.push({ target: { cluster, ip: s.clusterIp, label: `${s.name} Service`, cidr }, ports });
    }
  }
  return found;
}
