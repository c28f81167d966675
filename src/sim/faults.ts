// The fault and change controls tests and the demo's fault panel drive: pod lifecycle,
// network, API server behaviour. Every function names the cluster by its scenario name.

import { crashLoop, imagePullBackOff, setContainerReady, type TerminationReason } from './cluster/pods.ts';
import { type PodTarget, type SimCluster, workloadOf } from './cluster/sim-cluster.ts';
import type { Json, KubeObject } from './cluster/store.ts';
import type { LinkQuality, Network, TunnelState } from './net/network.ts';
import type { ClusterApiServer } from './server/api-server.ts';

export interface PodAddress {
  name: string;
  ip: string | undefined;
}

export interface PodChange {
  namespace: string;
  before: PodAddress;
  /** The replacement its Deployment created, once it runs. */
  after: PodAddress | undefined;
}

export interface SimFaults {
  /** Deletes the pods and waits for their Deployment's replacements: new name, new IP. */
  restartPod(cluster: string, namespace: string, target: PodTarget): Promise<PodChange[]>;
  /** Deletes the pods; a Deployment replaces its own, other pods are gone. */
  deletePod(cluster: string, namespace: string, target: PodTarget): Promise<void>;
  /** One more failed start per call (and one per `everyMs` if given): CrashLoopBackOff. */
  crashLoop(
    cluster: string,
    namespace: string,
    target: PodTarget,
    options?: { container?: string; reason?: TerminationReason; everyMs?: number },
  ): void;
  /** Readiness probe fails (ready=false) or passes again. */
  setContainerReady(
    cluster: string,
    namespace: string,
    target: PodTarget,
    ready: boolean,
    options?: { container?: string },
  ): void;
  imagePullBackOff(
    cluster: string,
    namespace: string,
    target: PodTarget,
    options?: { container?: string; image?: string },
  ): void;
  /**
   * The pods run another proxy image, as after `istioctl kube-inject` of another Istio version or a pinned
   * `sidecar.istio.io/proxyImage`: spec and status both show it, the container keeps running.
   */
  setProxyImage(cluster: string, namespace: string, target: PodTarget, image: string): void;
  /** Sets a Deployment's replicas (0 removes the component) and waits for the pods. */
  scaleDeployment(cluster: string, namespace: string, name: string, replicas: number): Promise<void>;
  /** Tunnel state on both sides, or on one side with `side`. */
  setTunnel(a: string, b: string, state: TunnelState, options?: { side?: string }): void;
  /** Loss and RTT for probes sent from `from` to `to`, optionally only towards `cidr`. */
  setLink(from: string, to: string, quality: Partial<LinkQuality>, options?: { cidr?: string }): void;
  /** ESP (UDP 4500) from `from` to `to` is dropped on the way: one-way ESP; the CHILD SAs stay INSTALLED. */
  setEspBlocked(from: string, to: string, blocked?: boolean): void;
  /** An MTU black hole: DF packets from `from` to `to` above `mtu` bytes vanish without an ICMP error. */
  setPathMtu(from: string, to: string, mtu: number): void;
  /** A firewall drops TCP from `from`'s pods to `to` while ICMP passes. */
  setTcpBlocked(from: string, to: string, blocked?: boolean): void;
  /**
   * The routes DaemonSet down on one node: its pod there crash-loops, so that node's pods lose their route
   * into the tunnel (the tunnel, the gateway and the other nodes are fine). Returns the pod's name.
   */
  stopRoutes(cluster: string, node: string): string;
  /**
   * `cluster`'s strongSwan pods are driven through vici (swanctl.conf, `swanctl --list-sas`) instead of
   * stroke (`ipsec statusall`), as a strongSwan 6 image is: `ipsec` is not there.
   */
  setStrongswanFrontEnd(cluster: string, frontEnd: 'stroke' | 'vici'): void;
  /** Replaces `cluster`'s local and/or remote subnets of its tunnel to `peer` (e.g. a missing service CIDR). */
  setSubnets(
    cluster: string,
    peer: string,
    subnets: { localSubnets?: readonly string[]; remoteSubnets?: readonly string[] },
  ): void;
  setApiLatency(cluster: string, ms: number): void;
  setExecLatency(cluster: string, ms: number): void;
  /** Every API request answers 503 ServiceUnavailable. */
  setUnavailable(cluster: string, unavailable: boolean): void;
  /**
   * The next writes go wrong the way an overloaded control plane makes them: `lost-reply` is stored and then
   * answered 504 Timeout; `not-committed` is answered 500 (etcd timed out) with nothing stored.
   */
  failWrites(cluster: string, ...faults: ('lost-reply' | 'not-committed')[]): void;
  /** Closes the listener: connections are refused until restoreConnections. */
  refuseConnections(cluster: string): Promise<void>;
  /** Listens again on the same port. */
  restoreConnections(cluster: string): Promise<void>;
  /** The kubeconfig's token stops working (401) or works again. */
  revokeToken(cluster: string, revoked?: boolean): void;
  /** An operator rotates the ServiceAccount token: the old one gets 401 from now on; returns the new one. */
  rotateToken(cluster: string): string;
  /** Exec gets 403 Forbidden in `namespace` (default: everywhere). */
  forbidExec(cluster: string, namespace?: string, forbidden?: boolean): void;
  /** Adds `count` running pods (Deployments of `perDeployment` replicas) for scale tests. */
  addPods(
    cluster: string,
    count: number,
    options?: { namespace?: string; perDeployment?: number; ping?: 'iputils' | 'busybox' | 'none' },
  ): Promise<void>;
  /** Back to the scenario as loaded: objects, network, switches, listeners. */
  reset(): Promise<void>;
}

export interface FaultDeps {
  clusters: ReadonlyMap<string, SimCluster>;
  servers: ReadonlyMap<string, ClusterApiServer>;
  network: Network;
  settled(): Promise<void>;
  reset(): Promise<void>;
}

function address(pod: KubeObject): PodAddress {
  return { name: pod.metadata.name, ip: (pod as Json).status?.podIP };
}

export function createFaults(deps: FaultDeps): SimFaults & { stop(): void } {
  const timers = new Set<NodeJS.Timeout>();
  const cluster = (name: string): SimCluster => {
    const c = deps.clusters.get(name);
    if (!c)
      throw new Error(`unknown cluster ${name}; the scenario has ${[...deps.clusters.keys()].join(', ')}`);
    return c;
  };
  const server = (name: string): ClusterApiServer => {
    cluster(name);
    return deps.servers.get(name)!;
  };
  const containerOf = (pod: KubeObject, requested?: string) =>
    requested ?? ((pod as Json).spec.containers[0].name as string);
  const mutatePods = (
    name: string,
    namespace: string,
    target: PodTarget,
    change: (pod: KubeObject, now: number) => KubeObject,
  ) => {
    const c = cluster(name);
    for (const pod of c.pods(namespace, target)) c.put('pods', change(pod, c.timing.now()));
  };
  const stop = () => {
    for (const t of timers) clearInterval(t);
    timers.clear();
  };

  return {
    async restartPod(name, namespace, target) {
      const c = cluster(name);
      const victims = c.pods(namespace, target);
      const before = new Set(c.list('pods', namespace).map((p) => p.metadata.name));
      for (const pod of victims) c.controller.deletePod(namespace, pod.metadata.name);
      await deps.settled();
      const fresh = c.list('pods', namespace).filter((p) => !before.has(p.metadata.name));
      return victims.map((pod) => {
        const owner = workloadOf(pod);
        const index = fresh.findIndex((p) => owner !== undefined && workloadOf(p) === owner);
        const replacement = index >= 0 ? fresh.splice(index, 1)[0] : undefined;
        return { namespace, before: address(pod), after: replacement ? address(replacement) : undefined };
      });
    },

    async deletePod(name, namespace, target) {
      const c = cluster(name);
      for (const pod of c.pods(namespace, target)) c.controller.deletePod(namespace, pod.metadata.name);
      await deps.settled();
    },

    crashLoop(name, namespace, target, options = {}) {
      const reason = options.reason ?? 'Error';
      const names = cluster(name)
        .pods(namespace, target)
        .map((p) => p.metadata.name);
      const bump = () =>
        mutatePods(name, namespace, target, (pod, now) =>
          crashLoop(pod, containerOf(pod, options.container), reason, now),
        );
      bump();
      if (options.everyMs && options.everyMs > 0) {
        const timer = setInterval(() => {
          const c = cluster(name);
          if (names.every((n) => c.get('pods', namespace, n))) bump();
          else {
            clearInterval(timer);
            timers.delete(timer);
          }
        }, options.everyMs);
        timer.unref();
        timers.add(timer);
      }
    },

    setContainerReady(name, namespace, target, ready, options = {}) {
      mutatePods(name, namespace, target, (pod, now) =>
        setContainerReady(pod, containerOf(pod, options.container), ready, now),
      );
    },

    imagePullBackOff(name, namespace, target, options = {}) {
      mutatePods(name, namespace, target, (pod, now) => {
        const container = containerOf(pod, options.container);
        const current = ((pod as Json).spec.containers as Json[]).find((x) => x.name === container)?.image;
        return imagePullBackOff(pod, container, options.image ?? `${current}-missing`, now);
      });
    },

    setProxyImage(name, namespace, target, image) {
      mutatePods(name, namespace, target, (pod) => {
        const p = pod as Json;
        const swap = (list: Json[] | undefined) =>
          list?.map((x) => (x.name === 'istio-proxy' ? { ...x, image } : x));
        return {
          ...p,
          spec: { ...p.spec, containers: swap(p.spec.containers) },
          status: { ...p.status, containerStatuses: swap(p.status?.containerStatuses) },
        } as unknown as KubeObject;
      });
    },

    async scaleDeployment(name, namespace, deployment, replicas) {
      const c = cluster(name);
      const current = c.get('deployments', namespace, deployment, 'apps') as Json | undefined;
      if (!current) throw new Error(`${name}: deployment ${namespace}/${deployment} not found`);
      c.put(
        'deployments',
        { ...current, metadata: current.metadata, spec: { ...current.spec, replicas } },
        'apps',
      );
      await deps.settled();
    },

    setTunnel(a, b, state, options = {}) {
      deps.network.setTunnel(a, b, state, options.side);
    },

    setLink(from, to, quality, options = {}) {
      cluster(from);
      cluster(to);
      deps.network.setLink(from, to, quality, options.cidr);
    },

    setStrongswanFrontEnd(name, frontEnd) {
      const traits = cluster(name).traits;
      for (const [workload, t] of traits)
        if (t.strongswan) traits.set(workload, { ...t, strongswanFrontEnd: frontEnd });
    },

    setEspBlocked(from, to, blocked = true) {
      deps.network.setEspBlocked(from, to, blocked);
    },

    setPathMtu(from, to, mtu) {
      deps.network.setPathMtu(from, to, mtu);
    },

    setTcpBlocked(from, to, blocked = true) {
      deps.network.setTcpBlocked(from, to, blocked);
    },

    stopRoutes(name, node) {
      const c = cluster(name);
      const routes = deps.network.sidesOf(name).find((v) => v.side.routes)?.side.routes;
      if (!routes) throw new Error(`${name}: no tunnel side names a routes DaemonSet`);
      const pod = c
        .list('pods', routes.namespace)
        .find(
          (p) =>
            p.metadata.ownerReferences?.[0]?.name === routes.daemonSet && (p as Json).spec?.nodeName === node,
        );
      if (!pod) throw new Error(`${name}: no ${routes.daemonSet} pod on node ${node}`);
      mutatePods(name, routes.namespace, pod.metadata.name, (p, now) =>
        crashLoop(p, containerOf(p), 'Error', now),
      );
      return pod.metadata.name;
    },

    setSubnets(name, peer, subnets) {
      deps.network.setSubnets(name, peer, subnets);
    },

    setApiLatency(name, ms) {
      cluster(name).switches.apiLatencyMs = ms;
    },

    setExecLatency(name, ms) {
      cluster(name).switches.execLatencyMs = ms;
    },

    setUnavailable(name, unavailable) {
      cluster(name).switches.unavailable = unavailable;
    },
    failWrites(name, ...faults) {
      cluster(name).switches.writeFaults.push(...faults);
    },

    refuseConnections: (name) => server(name).refuse(),

    restoreConnections: (name) => server(name).restore(),

    revokeToken(name, revoked = true) {
      cluster(name).switches.tokenRevoked = revoked;
    },

    rotateToken: (name) => server(name).rotateToken(),

    forbidExec(name, namespace = '*', forbidden = true) {
      const set = cluster(name).switches.execForbidden;
      if (forbidden) set.add(namespace);
      else set.delete(namespace);
    },

    async addPods(name, count, options = {}) {
      const c = cluster(name);
      const namespace = options.namespace ?? 'bulk';
      const per = options.perDeployment ?? 10;
      if (!c.get('namespaces', undefined, namespace)) {
        c.put('namespaces', {
          metadata: { name: namespace, labels: { 'kubernetes.io/metadata.name': namespace } },
          spec: { finalizers: ['kubernetes'] },
          status: { phase: 'Active' },
        });
      }
      const existing = c.list('deployments', namespace, 'apps').length;
      for (let i = 0; i * per < count; i++) {
        const app = `bulk-${existing + i}`;
        c.controller.createWorkload(
          {
            kind: 'Deployment',
            name: app,
            namespace,
            replicas: Math.min(per, count - i * per),
            labels: { app },
            containers: [{ name: 'app', image: 'docker.io/library/nginx:1.27' }],
            age: '1d',
            ping: options.ping ?? 'iputils',
            strongswan: false,
            strongswanFrontEnd: 'stroke',
            hostNetwork: false,
            createdBeforeInjection: false,
          },
          c.timing.now(),
        );
      }
      await deps.settled();
    },

    async reset() {
      stop();
      await deps.reset();
    },

    stop,
  };
}
