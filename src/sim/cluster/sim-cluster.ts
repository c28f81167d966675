// One simulated cluster's state: its objects, addresses, the workload controller, and the
// switches faults flip (latency, 503, revoked token, exec denial). No I/O here; the API server
// (api/server.ts) serves it.

import type { LabelSelector } from '../api/label-selector.ts';
import { labelSelector } from '../api/label-selector.ts';
import { createRegistry, type ResourceRegistry, type ResourceType, storeKey } from '../api/resources.ts';
import type { Port } from '../net/network.ts';
import { crdTypes } from '../scenario/crds.ts';
import type { ClusterSpec } from '../scenario/schema.ts';
import { AddressIndex } from './addresses.ts';
import { WorkloadController } from './controller.ts';
import { type Json, type KubeObject, Store } from './store.ts';

/** A pod by name, or every pod matching a label selector. */
export type PodTarget = string | { labelSelector: string };

export interface ClusterSwitches {
  apiLatencyMs: number;
  /** Extra delay added to every exec, on top of the mesh's execLatencyMs. */
  execLatencyMs: number;
  unavailable: boolean;
  tokenRevoked: boolean;
  /** Namespaces where exec gets 403; `*` for all. */
  execForbidden: Set<string>;
  /**
   * What the next writes (create, update, patch, delete) meet: `lost-reply` is committed and then answered
   * 504 Timeout, `not-committed` is answered 500 with nothing stored. One entry per write, in order.
   */
  writeFaults: ('lost-reply' | 'not-committed')[];
  /**
   * Pods created from now on that match fail their readiness probe once started (a new version that never
   * becomes Ready): a Deployment's rollout to them stays in progress, its old pods kept.
   */
  failingReadiness: { namespace: string; selects: LabelSelector; container?: string }[];
}

export interface PodTraits {
  ping: 'iputils' | 'busybox' | 'none';
  strongswan: boolean;
  /** `stroke`: `ipsec` answers; `vici`: only `swanctl` does. */
  strongswanFrontEnd: 'stroke' | 'vici';
}

export interface ClusterTiming {
  /** How long a new pod stays ContainerCreating before it runs. */
  podStartMs: number;
  now: () => number;
}

const DEFAULT_TRAITS: PodTraits = { ping: 'iputils', strongswan: false, strongswanFrontEnd: 'stroke' };

export class SimCluster {
  readonly name: string;
  readonly spec: ClusterSpec;
  readonly registry: ResourceRegistry;
  readonly store: Store;
  readonly addresses: AddressIndex;
  readonly controller: WorkloadController;
  readonly timing: ClusterTiming;
  switches: ClusterSwitches;
  /** Traits of the pods a workload creates, by `namespace/workload`. */
  readonly traits = new Map<string, PodTraits>();
  /**
   * Where a Service's endpoints really answer, for the API server's service proxy: keyed
   * `<namespace>/<service>:<port>`, e.g. a real Prometheus for `istio-system/prometheus:9090`.
   */
  readonly serviceBackends = new Map<string, string>();

  constructor(spec: ClusterSpec, timing: ClusterTiming) {
    this.name = spec.name;
    this.spec = spec;
    this.timing = timing;
    this.registry = createRegistry(spec.istioApiVersions, crdTypes(spec.crds));
    this.store = new Store();
    this.addresses = new AddressIndex(spec.name);
    this.switches = SimCluster.#defaultSwitches(spec);
    this.controller = new WorkloadController(this);
    this.store.onChange((event) => this.#track(event.key, event.type, event.object));
  }

  static #defaultSwitches(spec: ClusterSpec): ClusterSwitches {
    return {
      apiLatencyMs: 0,
      execLatencyMs: 0,
      unavailable: false,
      tokenRevoked: false,
      execForbidden: new Set(spec.execForbiddenNamespaces),
      writeFaults: [],
      failingReadiness: [],
    };
  }

  /** Empties the cluster (resourceVersions keep counting) and restores every switch. */
  clear(): void {
    this.controller.stop();
    this.store.clear();
    this.addresses.clear();
    this.traits.clear();
    this.switches = SimCluster.#defaultSwitches(this.spec);
  }

  type(resource: string, group = ''): ResourceType {
    const type = this.registry.all.find((t) => t.resource === resource && t.group === group);
    if (!type) throw new Error(`unknown resource ${resource}`);
    return type;
  }

  get(resource: string, namespace: string | undefined, name: string, group = ''): KubeObject | undefined {
    return this.store.get(storeKey(this.type(resource, group)), namespace, name);
  }

  list(resource: string, namespace?: string, group = ''): KubeObject[] {
    return this.store.list(storeKey(this.type(resource, group)), namespace);
  }

  put(resource: string, object: KubeObject, group = ''): KubeObject {
    return this.store.put(storeKey(this.type(resource, group)), object, new Date(this.timing.now()));
  }

  pods(namespace: string, target: PodTarget): KubeObject[] {
    if (typeof target === 'string') {
      const pod = this.get('pods', namespace, target);
      if (!pod) throw new Error(`${this.name}: pod ${namespace}/${target} not found`);
      return [pod];
    }
    const selects = labelSelector(target.labelSelector);
    const pods = this.list('pods', namespace).filter((p) => selects(p.metadata.labels));
    if (pods.length === 0)
      throw new Error(`${this.name}: no pod in ${namespace} matches ${target.labelSelector}`);
    return pods;
  }

  /** Whether DaemonSet `daemonSet`'s pod on `node` is Running and Ready (a kubelet's view of it). */
  daemonPodReady(ref: { namespace: string; daemonSet: string }, node: string): boolean {
    return this.list('pods', ref.namespace).some((pod) => {
      const o = pod as Json;
      const owner = pod.metadata.ownerReferences?.[0];
      return (
        owner?.kind === 'DaemonSet' &&
        owner.name === ref.daemonSet &&
        o.spec?.nodeName === node &&
        o.status?.phase === 'Running' &&
        ((o.status?.conditions ?? []) as Json[]).some((c) => c.type === 'Ready' && c.status === 'True')
      );
    });
  }

  podTraits(pod: KubeObject): PodTraits {
    const owner = workloadOf(pod);
    return (owner ? this.traits.get(`${pod.metadata.namespace}/${owner}`) : undefined) ?? DEFAULT_TRAITS;
  }

  #track(key: string, type: string, object: KubeObject): void {
    const id = `${key}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    this.addresses.releaseOwner(id);
    if (type !== 'DELETED') {
      const o = object as Json;
      if (key === 'pods' && o.status?.podIP) {
        // A pod listens on the ports its containers declare.
        const ports = ((o.spec?.containers ?? []) as Json[]).flatMap((c) =>
          portsOf(c.ports, 'containerPort'),
        );
        this.addresses.claim(o.status.podIP, id, 'pod', {
          ...(o.spec?.nodeName ? { nodeName: o.spec.nodeName } : {}),
          ports,
          gateway: this.podTraits(object).strongswan,
        });
      }
      if (key === 'services') {
        if (o.spec?.clusterIP && o.spec.clusterIP !== 'None')
          this.addresses.claim(o.spec.clusterIP, id, 'service', {
            ports: portsOf(o.spec.ports, 'port'),
            ignoresPing: this.spec.kubeProxyMode === 'iptables',
          });
        for (const ingress of o.status?.loadBalancer?.ingress ?? []) {
          if (ingress.ip) this.addresses.claim(ingress.ip, id, 'external');
        }
      }
    }
    if (
      key === 'pods' ||
      key === 'services' ||
      key === 'endpoints' ||
      key === 'endpointslices.discovery.k8s.io' ||
      key === 'deployments.apps' ||
      key === 'replicasets.apps' ||
      key === 'daemonsets.apps'
    ) {
      this.controller.changed(key, object);
    }
  }
}

function portsOf(ports: Json[] | undefined, field: 'containerPort' | 'port'): Port[] {
  return (ports ?? []).map((p) => ({
    port: p[field] as number,
    protocol: p.protocol === 'UDP' ? 'UDP' : 'TCP',
  }));
}

/** The Deployment (or Job, DaemonSet) that owns a pod, from its owner reference. */
export function workloadOf(pod: KubeObject): string | undefined {
  const owner = pod.metadata.ownerReferences?.[0];
  if (!owner) return undefined;
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.metadata.labels?.['pod-template-hash'];
    return hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : owner.name;
  }
  return owner.name;
}
