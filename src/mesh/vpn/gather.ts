import type { MeshConfig } from '../../config/schema.ts';
import { describeSelector, type PodSelector, strongswanSelector } from '../../config/vpn-pods.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { listItems } from '../../kube/list.ts';
import { PROXY } from '../istio/facts.ts';
import { istioSetup } from '../istio/profiles.ts';
import type { PodRef, ProbeTarget, RoutesState } from './report.ts';
import {
  appTargets,
  type ComponentPods,
  controlPlaneTargets,
  nodeProbePods,
  type PodInfo,
  type PodInfoShape,
  pickPod,
  podInfo,
  type ServiceInfo,
  type ServiceShape,
  type ServiceTarget,
  SIDECAR_NEEDS,
  serviceInfo,
  serviceTargets,
  type TargetChoice,
} from './targets.ts';

/**
 * The Kubernetes API side of the check (lists only, never exec): which pods to use and which to ping. Lists
 * are read as plain JSON (a remote's every pod is one of them), same URLs and verbs as client-node's calls.
 */

type Query = Record<string, string | undefined>;

function listPath(base: string, query: Query = {}): string {
  const params = new URLSearchParams(
    Object.entries(query).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, v]])),
  ).toString();
  return params ? `${base}?${params}` : base;
}

const inNamespace = (group: string, namespace: string, resource: string) =>
  `${group}/namespaces/${encodeURIComponent(namespace)}/${resource}`;

function listPods(cluster: Cluster, namespace: string | undefined, query: Query, timeoutMs: number) {
  const base = namespace === undefined ? '/api/v1/pods' : inNamespace('/api/v1', namespace, 'pods');
  return listItems<PodInfoShape>(cluster, listPath(base, query), 'pods', timeoutMs);
}

interface DaemonSetShape {
  metadata?: { name?: string };
  status?: { desiredNumberScheduled?: number; numberReady?: number };
}

/** The IBM chart's routes DaemonSet, in the strongSwan pod's namespace unless configured. */
export function routesSelector(
  config: MeshConfig,
  cluster: Cluster,
): { namespace: string; selector: string } {
  const own = cluster.config.vpn?.routes;
  const mesh = config.vpn.routes;
  return {
    namespace: own?.namespace ?? mesh?.namespace ?? strongswanSelector(config, cluster).namespace,
    selector: own?.selector ?? mesh?.selector ?? 'app=strongswan-routes',
  };
}

/**
 * The routes DaemonSet: how many pods it wants and has ready, and on which nodes its pod is not ready (from
 * its pods: a node with no pod at all is only counted). None found is not an error: routes can be static.
 */
export async function readRoutes(
  cluster: Cluster,
  where: { namespace: string; selector: string },
  timeoutMs: number,
  now: number,
): Promise<RoutesState | undefined> {
  try {
    const query = { labelSelector: where.selector };
    const [sets, pods] = await Promise.all([
      listItems<DaemonSetShape>(
        cluster,
        listPath(inNamespace('/apis/apps/v1', where.namespace, 'daemonsets'), query),
        'daemonsets',
        timeoutMs,
      ),
      listPods(cluster, where.namespace, query, timeoutMs),
    ]);
    const set = sets[0];
    if (!set) return undefined;
    const name = set.metadata?.name ?? '';
    const owned = pods.filter((p) =>
      p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.name === name),
    );
    const infos = owned.map((p) => podInfo(p, now));
    const readyNodes = new Set(infos.filter((p) => p.ready && p.nodeName).map((p) => p.nodeName!));
    const nodesWithout = [
      ...new Set(infos.flatMap((p) => (p.nodeName && !readyNodes.has(p.nodeName) ? [p.nodeName] : []))),
    ].sort();
    const desired = set.status?.desiredNumberScheduled ?? 0;
    return {
      cluster: cluster.name,
      ok: true,
      daemonSet: name,
      desired,
      ready: set.status?.numberReady ?? 0,
      nodesWithout,
      unscheduled: Math.max(0, desired - new Set(infos.map((p) => p.nodeName)).size),
    };
  } catch (err) {
    return {
      cluster: cluster.name,
      ok: false,
      problem: `reading the routes DaemonSet failed: ${classifyKubeError(err, timeoutMs).reason}`,
    };
  }
}

/** The default node probe: an injected app pod (it has istio-proxy, whose image has ping and nc). */
const DEFAULT_NODE_PROBE = { namespace: 'default', container: PROXY };

export interface NodeProbeSelector {
  namespace: string;
  selector?: string;
  container: string;
}

/** Per cluster beats mesh-wide beats the default, field by field. */
export function nodeProbeSelector(config: MeshConfig, cluster: Cluster): NodeProbeSelector {
  const own = cluster.config.vpn?.nodeProbe;
  const mesh = config.vpn.nodeProbe;
  const selector = own?.selector ?? mesh?.selector;
  return {
    namespace: own?.namespace ?? mesh?.namespace ?? DEFAULT_NODE_PROBE.namespace,
    ...(selector ? { selector } : {}),
    container: own?.container ?? mesh?.container ?? DEFAULT_NODE_PROBE.container,
  };
}

export type NodeProbes = { ok: true; pods: PodRef[] } | { ok: false; problem: string };

/**
 * The pods that could be probed from (listed at once with the other lookups); `pickNodeProbes` chooses one per
 * node once the pods meshops already uses are known.
 */
export async function listNodeProbeCandidates(
  cluster: Cluster,
  selector: NodeProbeSelector,
  timeoutMs: number,
  now: number,
): Promise<{ ok: true; pods: PodInfo[] } | { ok: false; problem: string }> {
  try {
    const pods = await listPods(cluster, selector.namespace, { labelSelector: selector.selector }, timeoutMs);
    return { ok: true, pods: pods.map((p) => podInfo(p, now)) };
  } catch (err) {
    return { ok: false, problem: `listing pods failed: ${classifyKubeError(err, timeoutMs).reason}` };
  }
}

/** One ordinary pod per node to probe from, never one meshops already uses (strongSwan, the probe pod). */
export function pickNodeProbes(
  cluster: Cluster,
  selector: NodeProbeSelector,
  candidates: Awaited<ReturnType<typeof listNodeProbeCandidates>>,
  exclude: readonly PodRef[],
): NodeProbes {
  if (!candidates.ok) return candidates;
  const picked = nodeProbePods(candidates.pods, selector.container, exclude);
  return {
    ok: true,
    pods: picked.map((p) => ({ ...ref(cluster, p, selector.container), node: p.nodeName! })),
  };
}

export type FoundPod =
  | { ok: true; pod: PodRef }
  | { ok: false; kind: 'no-pod' | 'pod-not-ready' | 'api'; problem: string; pod?: PodRef };

/** Without a configured container, the one kubectl would pick: its default-container annotation, else the first that is not the sidecar. */
function containerOf(pod: PodInfoShape, configured: string | undefined): string | undefined {
  if (configured) return configured;
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && names.includes(annotated)) return annotated;
  return names.find((n) => n !== PROXY) ?? names[0];
}

function ref(cluster: Cluster, pod: PodInfo, container: string | undefined): PodRef {
  return {
    cluster: cluster.name,
    namespace: pod.namespace,
    name: pod.name,
    ...(pod.ip ? { ip: pod.ip } : {}),
    ...(container ? { container } : {}),
  };
}

export async function findPod(
  cluster: Cluster,
  selector: PodSelector,
  timeoutMs: number,
  now: number,
): Promise<FoundPod> {
  let pods: PodInfoShape[];
  try {
    pods = await listPods(cluster, selector.namespace, { labelSelector: selector.selector }, timeoutMs);
  } catch (err) {
    return {
      ok: false,
      kind: 'api',
      problem: `listing pods failed: ${classifyKubeError(err, timeoutMs).reason}`,
    };
  }
  const infos = pods.map((p) => podInfo(p, now));
  const picked = pickPod(infos);
  const source = (info: PodInfo) => pods.find((p) => p.metadata?.name === info.name)!;
  if ('ready' in picked) {
    return {
      ok: true,
      pod: ref(cluster, picked.ready, containerOf(source(picked.ready), selector.container)),
    };
  }
  if (picked.unready) {
    return {
      ok: false,
      kind: 'pod-not-ready',
      problem: picked.unready.status,
      pod: ref(cluster, picked.unready, containerOf(source(picked.unready), selector.container)),
    };
  }
  return { ok: false, kind: 'no-pod', problem: `no pod matches ${describeSelector(selector)}` };
}

export type Targets = TargetChoice & {
  problem?: string;
  /** The primary's control-plane Services in a configured service CIDR, for the port checks. */
  services?: ServiceTarget[];
};

const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

export const cidrsOf = (cluster: Cluster) => [...cluster.config.podCidrs, ...cluster.config.serviceCidrs];

/** What a pod on another cluster should reach on `cluster`: the primary's control plane, or a remote's apps. */
export async function discoverTargets(
  config: MeshConfig,
  cluster: Cluster,
  timeoutMs: number,
  now: number,
): Promise<Targets> {
  const setup = istioSetup(config, cluster.config);
  try {
    if (cluster.role === 'primary') {
      const needed = SIDECAR_NEEDS[setup.profile];
      const specs = setup.components.filter((c) => needed.includes(c.name));
      const [components, services] = await Promise.all([
        Promise.all(
          specs.map(async (spec): Promise<ComponentPods> => {
            const pods = await listPods(
              cluster,
              setup.namespace,
              { labelSelector: spec.selector },
              timeoutMs,
            );
            return { component: spec.name, pods: pods.map((p) => podInfo(p, now)) };
          }),
        ),
        controlPlaneServices(cluster, setup.namespace, timeoutMs),
      ]);
      const choice = controlPlaneTargets(cluster.name, cidrsOf(cluster), components);
      const absent = needed.filter((n) => !specs.some((s) => s.name === n));
      return {
        ...choice,
        skipped: [
          ...choice.skipped,
          ...(absent.length > 0
            ? [`${absent.join(', ')} not in the Istio components of ${cluster.name}`]
            : []),
          ...('problem' in services
            ? [`the control-plane Service IPs on ${cluster.name} were not checked: ${services.problem}`]
            : []),
        ],
        services:
          'problem' in services
            ? []
            : serviceTargets(cluster.name, cluster.config.serviceCidrs, components, services.list),
      };
    }
    const pods = await listPods(cluster, undefined, {}, timeoutMs);
    return appTargets(
      cluster.name,
      cidrsOf(cluster),
      pods.map((p) => podInfo(p, now)),
      new Set([...SYSTEM_NAMESPACES, setup.namespace]),
    );
  } catch (err) {
    return { targets: [], skipped: [], problem: classifyKubeError(err, timeoutMs).reason };
  }
}

/** The Services of the control-plane namespace; a refusal only costs the Service IP checks. */
async function controlPlaneServices(
  cluster: Cluster,
  namespace: string,
  timeoutMs: number,
): Promise<{ list: ServiceInfo[] } | { problem: string }> {
  try {
    const path = inNamespace('/api/v1', namespace, 'services');
    const list = await listItems<ServiceShape>(cluster, path, 'services', timeoutMs);
    return { list: list.map(serviceInfo) };
  } catch (err) {
    return { problem: classifyKubeError(err, timeoutMs).reason };
  }
}

/** The pod (not on the host network) that has `ip` right now, if any. */
export async function podWithIp(
  cluster: Cluster,
  ip: string,
  timeoutMs: number,
  now: number,
): Promise<PodInfo | undefined> {
  const pods = await listPods(cluster, undefined, { fieldSelector: `status.podIP=${ip}` }, timeoutMs);
  return pods.map((p) => podInfo(p, now)).find((p) => p.ip === ip && !p.hostNetwork);
}

export function addressTarget(
  cluster: Cluster,
  ip: string,
  cidr: string | undefined,
  pod: PodInfo | undefined,
): ProbeTarget {
  return {
    cluster: cluster.name,
    ip,
    label: pod ? pod.name : cluster.config.serviceCidrs.includes(cidr ?? '') ? 'service address' : 'address',
    ...(pod ? { pod: { namespace: pod.namespace, name: pod.name } } : {}),
    ...(cidr ? { cidr } : {}),
  };
}
