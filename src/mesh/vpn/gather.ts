import type { V1Pod } from '@kubernetes/client-node';
import type { MeshConfig } from '../../config/schema.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { PROXY } from '../istio/facts.ts';
import { istioSetup } from '../istio/profiles.ts';
import type { PodRef, ProbeTarget } from './report.ts';
import {
  appTargets,
  type ComponentPods,
  controlPlaneTargets,
  type PodInfo,
  pickPod,
  podInfo,
  SIDECAR_NEEDS,
  type TargetChoice,
} from './targets.ts';

/** The Kubernetes API side of the check (lists only, never exec): which pods to use and which to ping. */

export interface PodSelector {
  namespace: string;
  selector: string;
  container?: string;
}

const DEFAULT_STRONGSWAN = { namespace: 'default', selector: 'app=strongswan' };

/** Per cluster beats mesh-wide beats the default, field by field. */
export function strongswanSelector(config: MeshConfig, cluster: Pick<Cluster, 'config'>): PodSelector {
  const own = cluster.config.vpn?.strongswan;
  const mesh = config.vpn.strongswan;
  const container = own?.container ?? mesh.container;
  return {
    namespace: own?.namespace ?? mesh.namespace ?? DEFAULT_STRONGSWAN.namespace,
    selector: own?.selector ?? mesh.selector ?? DEFAULT_STRONGSWAN.selector,
    ...(container ? { container } : {}),
  };
}

/** Where pings run from: a configured probe, else the strongSwan pod itself (it sits on the tunnel). */
export function probeSelector(config: MeshConfig, cluster: Pick<Cluster, 'config'>): PodSelector {
  const own = cluster.config.vpn?.probe;
  const mesh = config.vpn.probe;
  if (!own && !mesh) return strongswanSelector(config, cluster);
  const container = own?.container ?? mesh?.container;
  return {
    namespace: own?.namespace ?? mesh?.namespace ?? DEFAULT_STRONGSWAN.namespace,
    selector: own?.selector ?? mesh?.selector ?? DEFAULT_STRONGSWAN.selector,
    ...(container ? { container } : {}),
  };
}

export const describeSelector = (s: PodSelector) => `${s.selector} in namespace ${s.namespace}`;

export type FoundPod =
  | { ok: true; pod: PodRef }
  | { ok: false; kind: 'no-pod' | 'pod-not-ready' | 'api'; problem: string; pod?: PodRef };

/** Without a configured container, the one kubectl would pick: its default-container annotation, else the first that is not the sidecar. */
function containerOf(pod: V1Pod, configured: string | undefined): string | undefined {
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
  let pods: V1Pod[];
  try {
    const list = await cluster.core.listNamespacedPod(
      { namespace: selector.namespace, labelSelector: selector.selector },
      cluster.options(timeoutMs),
    );
    pods = list.items;
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

export type Targets = TargetChoice & { problem?: string };

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
  const options = () => cluster.options(timeoutMs);
  try {
    if (cluster.role === 'primary') {
      const needed = SIDECAR_NEEDS[setup.profile];
      const specs = setup.components.filter((c) => needed.includes(c.name));
      const components: ComponentPods[] = await Promise.all(
        specs.map(async (spec) => {
          const list = await cluster.core.listNamespacedPod(
            { namespace: setup.namespace, labelSelector: spec.selector },
            options(),
          );
          return { component: spec.name, pods: list.items.map((p) => podInfo(p, now)) };
        }),
      );
      const choice = controlPlaneTargets(cluster.name, cidrsOf(cluster), components);
      const absent = needed.filter((n) => !specs.some((s) => s.name === n));
      return absent.length > 0
        ? {
            ...choice,
            skipped: [
              ...choice.skipped,
              `${absent.join(', ')} not in the Istio components of ${cluster.name}`,
            ],
          }
        : choice;
    }
    const list = await cluster.core.listPodForAllNamespaces({}, options());
    return appTargets(
      cluster.name,
      cidrsOf(cluster),
      list.items.map((p) => podInfo(p, now)),
      new Set([...SYSTEM_NAMESPACES, setup.namespace]),
    );
  } catch (err) {
    return { targets: [], skipped: [], problem: classifyKubeError(err, timeoutMs).reason };
  }
}

/** The pod (not on the host network) that has `ip` right now, if any. */
export async function podWithIp(
  cluster: Cluster,
  ip: string,
  timeoutMs: number,
  now: number,
): Promise<PodInfo | undefined> {
  const list = await cluster.core.listPodForAllNamespaces(
    { fieldSelector: `status.podIP=${ip}` },
    cluster.options(timeoutMs),
  );
  return list.items.map((p) => podInfo(p, now)).find((p) => p.ip === ip && !p.hostNetwork);
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
