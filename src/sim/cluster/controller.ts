// What kube-controller-manager and the kubelet do for the simulation: Deployments roll out through
// ReplicaSets as the deployment controller does (the arithmetic in rolling.ts), ReplicaSets keep their
// count of pods (a deleted pod is replaced with a new name and IP, ready after podStartMs), DaemonSets
// keep one pod on every node, and selector Services get Endpoints and EndpointSlices that
// follow the pods. The Endpoints of a selector-less Service are mirrored into an EndpointSlice
// (kube-controller-manager's endpointslicemirroring controller, GA since Kubernetes 1.21), and an
// edit of that slice is undone.

import { matchLabelsSelector } from '../api/label-selector.ts';
import type { WorkloadSpec } from '../scenario/schema.ts';
import { allocateAddress } from './addresses.ts';
import { fnv1a, kubeSuffix, podTemplateHash, uid } from './ids.ts';
import { injectSidecar, meshValues, shouldInject } from './injector.ts';
import { type PodInit, pendingPod, runningPod, setContainerReady, startPod, succeededPod } from './pods.ts';
import {
  deploymentStatus,
  deploymentView,
  isComplete,
  newReplicaSetSize,
  REVISION,
  recreateStep,
  replicaSetAnnotations,
  replicaSetView,
  rollingStep,
} from './rolling.ts';
import type { SimCluster } from './sim-cluster.ts';
import { workloadOf } from './sim-cluster.ts';
import type { Json, KubeObject } from './store.ts';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const isReady = (pod: Json) =>
  ((pod.status?.conditions ?? []) as Json[]).some((c) => c.type === 'Ready' && c.status === 'True');

/** Empties a dirty set and returns what it held: reconciling may mark items dirty again for the next round. */
function taken<T>(dirty: Set<T>): T[] {
  const items = [...dirty];
  dirty.clear();
  return items;
}

export class WorkloadController {
  readonly #c: SimCluster;
  readonly #dirtyDeployments = new Set<string>();
  readonly #dirtyReplicaSets = new Set<string>();
  readonly #dirtyDaemonSets = new Set<string>();
  readonly #dirtyNamespaces = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #counters = new Map<string, number>();
  /** ReplicaSets whose last pod creation the API server refused, with its message (ReplicaFailure). */
  readonly #failedCreate = new Map<string, string>();
  #waiters: (() => void)[] = [];
  #scheduled = false;

  constructor(cluster: SimCluster) {
    this.#c = cluster;
  }

  /** Store change hook: queue the reconciliations the change calls for. */
  changed(key: string, object: KubeObject): void {
    const ns = object.metadata.namespace ?? '';
    const owner = object.metadata.ownerReferences?.find((o) => o.controller);
    if (key === 'deployments.apps') this.#dirtyDeployments.add(`${ns}/${object.metadata.name}`);
    if (key === 'daemonsets.apps') this.#dirtyDaemonSets.add(`${ns}/${object.metadata.name}`);
    if (key === REPLICA_SETS) {
      this.#dirtyReplicaSets.add(`${ns}/${object.metadata.name}`);
      if (owner?.kind === 'Deployment') this.#dirtyDeployments.add(`${ns}/${owner.name}`);
    }
    if (key === 'pods') {
      if (owner?.kind === 'ReplicaSet') this.#dirtyReplicaSets.add(`${ns}/${owner.name}`);
      if (owner?.kind === 'DaemonSet') this.#dirtyDaemonSets.add(`${ns}/${owner.name}`);
    }
    if (key === 'pods' || key === 'services' || key === 'endpoints' || key === SLICES)
      this.#dirtyNamespaces.add(ns);
    this.#schedule();
  }

  /** Resolves once no pod is starting and no reconciliation is queued. */
  settled(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#dirtyDeployments.clear();
    this.#dirtyReplicaSets.clear();
    this.#dirtyDaemonSets.clear();
    this.#dirtyNamespaces.clear();
    this.#counters.clear();
    this.#failedCreate.clear();
    this.#notifyIfIdle();
  }

  /** Creates a scenario workload as it stands after running for its age: every pod up. */
  createWorkload(w: WorkloadSpec, now: number): void {
    const createdAt = now - ageMs(w.age);
    const inject = !w.createdBeforeInjection;
    this.#c.traits.set(`${w.namespace}/${w.name}`, {
      ping: w.ping,
      strongswan: w.strongswan,
      strongswanFrontEnd: w.strongswanFrontEnd,
    });
    const template = {
      metadata: { labels: w.labels, ...(w.annotations ? { annotations: w.annotations } : {}) },
      spec: {
        containers: w.containers.map((c) => ({ imagePullPolicy: 'IfNotPresent', ...c })),
        ...(w.hostNetwork ? { hostNetwork: true } : {}),
        restartPolicy: w.kind === 'Job' ? 'OnFailure' : 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        schedulerName: 'default-scheduler',
        serviceAccountName: w.serviceAccountName ?? 'default',
      },
    };
    if (w.kind === 'Job') {
      for (let i = 0; i < w.replicas; i++) {
        const ownerReferences = [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: w.name,
            uid: uid(`${this.#c.name}/jobs/${w.namespace}/${w.name}`),
            controller: true,
            blockOwnerDeletion: true,
          },
        ];
        const name = this.#podName(w.namespace, w.name);
        const labels = { ...w.labels, 'job-name': w.name };
        const init = this.#podInit(
          w.namespace,
          name,
          { ...template, metadata: { labels } },
          ownerReferences,
          createdAt,
          { inject },
        );
        this.#c.put('pods', succeededPod(init, this.#allocateIp(w.namespace, name), now));
      }
      return;
    }
    if (w.kind === 'DaemonSet') {
      const daemonSet = {
        metadata: {
          name: w.name,
          namespace: w.namespace,
          uid: uid(`${this.#c.name}/daemonsets/${w.namespace}/${w.name}`),
          generation: 1,
          creationTimestamp: iso(createdAt),
          labels: w.objectLabels ?? w.labels,
          annotations: { 'deprecated.daemonset.template.generation': '1' },
        },
        spec: {
          selector: { matchLabels: w.labels },
          template,
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
          revisionHistoryLimit: 10,
        },
        status: {},
      };
      for (const node of this.#c.spec.nodes) {
        const init = this.#daemonPodInit(daemonSet, node, createdAt, inject);
        this.#c.put('pods', runningPod(init, this.#podIp(init), now));
      }
      this.#c.put('daemonsets', daemonSet, 'apps');
      return;
    }
    const deployment = {
      metadata: {
        name: w.name,
        namespace: w.namespace,
        uid: uid(`${this.#c.name}/deployments/${w.namespace}/${w.name}`),
        generation: 1,
        creationTimestamp: iso(createdAt),
        labels: w.objectLabels ?? w.labels,
        annotations: { 'deployment.kubernetes.io/revision': '1' },
      },
      spec: {
        replicas: w.replicas,
        selector: { matchLabels: w.labels },
        template,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: {},
    };
    const rs = this.#replicaSetObject(deployment, podTemplateHash(template), w.replicas, 1, createdAt);
    for (let i = 0; i < w.replicas; i++) {
      const init = this.#replicaSetPodInit(rs, createdAt, inject);
      this.#c.put('pods', runningPod(init, this.#podIp(init), now));
    }
    this.#c.put('replicasets', rs, 'apps');
    this.#c.put('deployments', deployment, 'apps');
  }

  /** Deletes a pod; its Deployment, if any, replaces it. */
  deletePod(namespace: string, name: string): void {
    this.#c.store.delete('pods', namespace, name);
  }

  #idle(): boolean {
    return this.#timers.size === 0 && !this.#scheduled;
  }

  #notifyIfIdle(): void {
    if (!this.#idle()) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #dirty(): boolean {
    return (
      this.#dirtyDeployments.size > 0 ||
      this.#dirtyReplicaSets.size > 0 ||
      this.#dirtyDaemonSets.size > 0 ||
      this.#dirtyNamespaces.size > 0
    );
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#run());
  }

  #run(): void {
    // Reconciling writes objects, which queues more work: a rollout whose pods start at once takes many
    // rounds, so after a batch the rest waits for the event loop's next turn (requests get answered).
    for (let round = 0; round < 20 && this.#dirty(); round++) {
      for (const id of taken(this.#dirtyDeployments)) this.#reconcileDeployment(id);
      for (const id of taken(this.#dirtyReplicaSets)) this.#reconcileReplicaSet(id);
      for (const id of taken(this.#dirtyDaemonSets)) this.#reconcileDaemonSet(id);
      const namespaces = taken(this.#dirtyNamespaces);
      for (const ns of namespaces) this.#syncEndpoints(ns);
      // The ReplicaSet controller retries refused creates; the injector's endpoints are what changes the answer.
      const webhook = this.#c.spec.injection?.webhook;
      if (webhook && namespaces.includes(webhook.namespace))
        for (const id of this.#failedCreate.keys()) this.#dirtyReplicaSets.add(id);
    }
    if (this.#dirty()) {
      setImmediate(() => this.#run());
      return;
    }
    this.#scheduled = false;
    this.#notifyIfIdle();
  }

  #podName(namespace: string, base: string): string {
    for (;;) {
      const n = this.#counters.get(base) ?? 0;
      this.#counters.set(base, n + 1);
      const name = `${base}-${kubeSuffix(`${this.#c.name}/${namespace}/${base}/${n}`, 5)}`;
      if (!this.#c.get('pods', namespace, name)) return name;
    }
  }

  /** A hostNetwork pod has its node's IP; any other gets one from the pod CIDR. */
  #podIp(init: PodInit): string {
    return init.spec.hostNetwork === true ? init.hostIP : this.#allocateIp(init.namespace, init.name);
  }

  #allocateIp(namespace: string, name: string): string {
    return allocateAddress(this.#c.spec.podCidr, `${this.#c.name}/${namespace}/${name}`, (ip) =>
      this.#c.addresses.has(ip),
    );
  }

  #podInit(
    namespace: string,
    name: string,
    template: Json,
    ownerReferences: PodInit['ownerReferences'],
    createdAt: number,
    options: { inject?: boolean; node?: { name: string; ip: string } } = {},
  ): PodInit {
    const nodes = this.#c.spec.nodes;
    const node = options.node ?? nodes[fnv1a(name) % nodes.length]!;
    let spec: Json = template.spec;
    let annotations: Record<string, string> = { ...(template.metadata.annotations ?? {}) };
    const injection = this.#c.spec.injection;
    if (
      injection &&
      options.inject !== false &&
      shouldInject(this.#c.get('namespaces', undefined, namespace), annotations, spec)
    ) {
      const mesh = injection.meshConfig;
      const config = mesh ? this.#c.get('configmaps', mesh.namespace, mesh.name) : undefined;
      const injected = injectSidecar(
        spec,
        template.metadata.labels,
        injection,
        meshValues(injection, config),
      );
      spec = injected.spec;
      annotations = { ...annotations, ...injected.annotations };
    }
    return {
      namespace,
      name,
      uid: uid(`${this.#c.name}/pods/${namespace}/${name}`),
      labels: { ...template.metadata.labels },
      annotations,
      ownerReferences,
      spec: structuredClone(spec),
      nodeName: node.name,
      hostIP: node.ip,
      createdAt: new Date(createdAt),
    };
  }

  #daemonPodInit(
    daemonSet: Json,
    node: { name: string; ip: string },
    createdAt: number,
    inject = true,
  ): PodInit {
    const ns = daemonSet.metadata.namespace;
    const name = daemonSet.metadata.name;
    const ownerReferences = [
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        name,
        uid: daemonSet.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    const template = daemonSet.spec.template;
    const labels = { ...template.metadata?.labels, 'pod-template-generation': '1' };
    return this.#podInit(
      ns,
      this.#podName(ns, name),
      { ...template, metadata: { ...template.metadata, labels } },
      ownerReferences,
      createdAt,
      { inject, node },
    );
  }

  /** One pod per node: a deleted DaemonSet pod is replaced on its node. */
  #reconcileDaemonSet(id: string): void {
    const [ns, name] = id.split('/') as [string, string];
    const daemonSet = this.#c.get('daemonsets', ns, name, 'apps') as Json | undefined;
    if (!daemonSet) return;
    const now = this.#c.timing.now();
    const owned = () =>
      this.#c
        .list('pods', ns)
        .filter((p) => workloadOf(p) === name && p.metadata.ownerReferences?.[0]?.kind === 'DaemonSet');
    for (const node of this.#c.spec.nodes) {
      if (owned().some((p) => (p as Json).spec.nodeName === node.name)) continue;
      const init = this.#daemonPodInit(daemonSet, node, now);
      this.#c.put('pods', runningPod(init, this.#podIp(init), now));
    }
    const pods = owned();
    const ready = pods.filter(isReady).length;
    const status = {
      currentNumberScheduled: pods.length,
      numberMisscheduled: 0,
      desiredNumberScheduled: this.#c.spec.nodes.length,
      numberReady: ready,
      observedGeneration: daemonSet.metadata.generation ?? 1,
      updatedNumberScheduled: pods.length,
      numberAvailable: ready,
      ...(pods.length - ready > 0 ? { numberUnavailable: pods.length - ready } : {}),
    };
    if (JSON.stringify(status) !== JSON.stringify(daemonSet.status)) {
      this.#c.put('daemonsets', { ...daemonSet, metadata: daemonSet.metadata, status }, 'apps');
    }
  }

  /** The ReplicaSet a Deployment's template `hash` runs as (kube-controller-manager's getNewReplicaSet). */
  #replicaSetObject(
    deployment: Json,
    hash: string,
    replicas: number,
    revision: number,
    createdAt: number,
  ): Json & KubeObject {
    const ns: string = deployment.metadata.namespace;
    const name = `${deployment.metadata.name}-${hash}`;
    const template = deployment.spec.template;
    const labels = { ...template.metadata?.labels, 'pod-template-hash': hash };
    return {
      metadata: {
        name,
        namespace: ns,
        // The uid the pods' owner references name.
        uid: uid(`${this.#c.name}/replicasets/${ns}/${name}`),
        generation: 1,
        creationTimestamp: iso(createdAt),
        labels,
        annotations: replicaSetAnnotations(deployment, revision),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: deployment.metadata.name,
            uid: deployment.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas,
        selector: {
          matchLabels: { ...deployment.spec.selector?.matchLabels, 'pod-template-hash': hash },
        },
        template: { ...template, metadata: { ...template.metadata, labels } },
      },
      status: { replicas: 0 },
    };
  }

  #replicaSetPodInit(rs: Json, createdAt: number, inject = true): PodInit {
    const ns: string = rs.metadata.namespace;
    const ownerReferences = [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: rs.metadata.name,
        uid: rs.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    return this.#podInit(
      ns,
      this.#podName(ns, rs.metadata.name),
      rs.spec.template,
      ownerReferences,
      createdAt,
      {
        inject,
      },
    );
  }

  #ownedReplicaSets(ns: string, deployment: string): Json[] {
    return (this.#c.list('replicasets', ns, 'apps') as Json[]).filter((rs) =>
      ownedBy(rs, 'Deployment', deployment),
    );
  }

  #ownedPods(ns: string, rs: string): Json[] {
    return (this.#c.list('pods', ns) as Json[]).filter(
      (p) => ownedBy(p, 'ReplicaSet', rs) && !['Succeeded', 'Failed'].includes(p.status?.phase),
    );
  }

  /** Scales a ReplicaSet as the Deployment controller does: spec.replicas and its replica annotations. */
  #scaleReplicaSet(rs: Json, deployment: Json, replicas: number): void {
    const annotations = {
      ...rs.metadata.annotations,
      ...replicaSetAnnotations(deployment, Number(rs.metadata.annotations?.[REVISION] ?? 1)),
    };
    const changed = rs.spec.replicas !== replicas;
    this.#c.put(
      'replicasets',
      {
        ...rs,
        metadata: {
          ...rs.metadata,
          annotations,
          generation: (rs.metadata.generation ?? 1) + (changed ? 1 : 0),
        },
        spec: { ...rs.spec, replicas },
      },
      'apps',
    );
  }

  /**
   * The Deployment controller's sync (pkg/controller/deployment): find or create the ReplicaSet of the
   * current template, move one step of the strategy (rolling.ts), drop surplus history, write status.
   */
  #reconcileDeployment(id: string): void {
    const [ns, name] = id.split('/') as [string, string];
    const deployment = this.#c.get('deployments', ns, name, 'apps') as Json | undefined;
    if (!deployment) {
      // The garbage collector removes what the Deployment owned.
      for (const rs of this.#ownedReplicaSets(ns, name))
        this.#c.store.delete(REPLICA_SETS, ns, rs.metadata.name);
      return;
    }
    const view = deploymentView(deployment.spec);
    const hash = podTemplateHash(deployment.spec.template);
    const owned = this.#ownedReplicaSets(ns, name);
    let newRs = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const oldRss = owned.filter((rs) => rs !== newRs);
    const oldViews = oldRss.map(replicaSetView);
    const revisionOf = (rs: Json) => Number(rs.metadata.annotations?.[REVISION] ?? 0);
    const maxOld = Math.max(0, ...oldRss.map(revisionOf));
    const revision = newRs && revisionOf(newRs) > maxOld ? revisionOf(newRs) : maxOld + 1;
    const oldPods = oldRss.some((rs) => this.#ownedPods(ns, rs.metadata.name).length > 0);
    // Recreate makes the new ReplicaSet only once every old pod is gone.
    const mayCreate =
      view.strategy === 'RollingUpdate' || (!oldPods && oldViews.every((rs) => rs.replicas === 0));
    let created = false;
    if (!newRs && mayCreate) {
      const size = view.strategy === 'Recreate' ? view.replicas : newReplicaSetSize(view, oldViews, 0);
      newRs = this.#c.put(
        'replicasets',
        this.#replicaSetObject(deployment, hash, size, revision, this.#c.timing.now()),
        'apps',
      ) as Json;
      created = true;
    } else if (newRs && revisionOf(newRs) !== revision) {
      // A rollback to an older template makes its ReplicaSet the newest revision again.
      const annotations = { ...newRs.metadata.annotations, ...replicaSetAnnotations(deployment, revision) };
      newRs = this.#c.put(
        'replicasets',
        { ...newRs, metadata: { ...newRs.metadata, annotations } },
        'apps',
      ) as Json;
    }

    const scaling =
      view.strategy === 'RollingUpdate'
        ? rollingStep(view, replicaSetView(newRs!), oldViews)
        : recreateStep(view, newRs && replicaSetView(newRs), oldViews, oldPods);
    for (const [rsName, replicas] of scaling) {
      const rs = rsName === newRs?.metadata.name ? newRs : owned.find((r) => r.metadata.name === rsName)!;
      this.#scaleReplicaSet(rs, deployment, replicas);
    }
    const current = this.#ownedReplicaSets(ns, name);
    const currentNew = current.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const status = deploymentStatus(deployment, view, current, currentNew, created);
    if (scaling.size === 0 && isComplete(view, deployment, status))
      this.#cleanupHistory(deployment, current, currentNew);
    const annotations = {
      ...deployment.metadata.annotations,
      ...(currentNew ? { [REVISION]: String(revision) } : {}),
    };
    if (
      JSON.stringify(status) !== JSON.stringify(deployment.status) ||
      JSON.stringify(annotations) !== JSON.stringify(deployment.metadata.annotations)
    ) {
      this.#c.put(
        'deployments',
        { ...deployment, metadata: { ...deployment.metadata, annotations }, status },
        'apps',
      );
    }
  }

  /** cleanupDeployment: old ReplicaSets scaled to zero beyond revisionHistoryLimit go, oldest first. */
  #cleanupHistory(deployment: Json, owned: Json[], newRs: Json | undefined): void {
    const limit: number = deployment.spec.revisionHistoryLimit ?? 10;
    const idle = owned
      .filter((rs) => rs !== newRs && rs.spec.replicas === 0 && (rs.status?.replicas ?? 0) === 0)
      .sort(
        (a, b) =>
          Number(a.metadata.annotations?.[REVISION] ?? 0) - Number(b.metadata.annotations?.[REVISION] ?? 0),
      );
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit)))
      this.#c.store.delete(REPLICA_SETS, rs.metadata.namespace, rs.metadata.name);
  }

  /**
   * The ReplicaSet controller: as many active pods as spec.replicas (a refused create is its ReplicaFailure
   * condition), the least useful pods removed first, and status counted from the pods.
   */
  #reconcileReplicaSet(id: string): void {
    const [ns, name] = id.split('/') as [string, string];
    const rs = this.#c.get('replicasets', ns, name, 'apps') as Json | undefined;
    if (!rs) {
      for (const pod of this.#ownedPods(ns, name)) this.deletePod(ns, pod.metadata.name);
      this.#failedCreate.delete(id);
      return;
    }
    const now = this.#c.timing.now();
    const pods = this.#ownedPods(ns, name);
    const desired: number = rs.spec.replicas ?? 1;
    if (pods.length < desired) {
      const refused = this.#admissionRefusal(rs.spec.template, ns);
      if (refused) this.#failedCreate.set(id, refused);
      else {
        this.#failedCreate.delete(id);
        for (let i = pods.length; i < desired; i++) this.#startNewPod(rs, now);
      }
    } else {
      this.#failedCreate.delete(id);
      for (const pod of [...pods].sort(deletionOrder).slice(0, pods.length - desired))
        this.deletePod(ns, pod.metadata.name);
    }
    const after = this.#ownedPods(ns, name);
    const ready = after.filter(isReady).length;
    const failure = this.#failedCreate.get(id);
    const status = {
      replicas: after.length,
      ...(after.length > 0 ? { fullyLabeledReplicas: after.length } : {}),
      ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
      observedGeneration: rs.metadata.generation ?? 1,
      ...(failure
        ? {
            conditions: [
              { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure },
            ],
          }
        : {}),
    };
    if (JSON.stringify(status) !== JSON.stringify(rs.status))
      this.#c.put('replicasets', { ...rs, metadata: rs.metadata, status }, 'apps');
  }

  /**
   * What the API server answers a pod create when a fail-closed injector webhook cannot be called: the
   * Service has no ready endpoint to send the AdmissionReview to (kube-apiserver's service resolver error).
   */
  #admissionRefusal(template: Json, namespace: string): string | undefined {
    const injection = this.#c.spec.injection;
    const webhook = injection?.webhook;
    if (!webhook) return undefined;
    if (!shouldInject(this.#c.get('namespaces', undefined, namespace), template.metadata?.annotations ?? {}))
      return undefined;
    const endpoints = this.#c.get('endpoints', webhook.namespace, webhook.service) as Json | undefined;
    const ready = ((endpoints?.subsets ?? []) as Json[]).some((s) => (s.addresses ?? []).length > 0);
    if (ready) return undefined;
    return `Internal error occurred: failed calling webhook "${webhook.name}": Post https://${webhook.service}.${webhook.namespace}.svc:${webhook.port}${webhook.path}?timeout=30s: no endpoints available for service "${webhook.service}"`;
  }

  /** A started pod whose readiness probe a fault makes fail stays Running but not Ready. */
  #probed(pod: KubeObject, now: number): KubeObject {
    const failing = this.#c.switches.failingReadiness.find(
      (f) => f.namespace === pod.metadata.namespace && f.selects(pod.metadata.labels),
    );
    if (!failing) return pod;
    const containers = (pod as Json).spec.containers as Json[];
    const container = failing.container ?? containers[0]!.name;
    return setContainerReady(pod, container, false, now);
  }

  #startNewPod(rs: Json, now: number): void {
    const init = this.#replicaSetPodInit(rs, now);
    const startMs = this.#c.timing.podStartMs;
    if (startMs <= 0) {
      this.#c.put('pods', this.#probed(runningPod(init, this.#podIp(init), now), now));
      return;
    }
    this.#c.put('pods', pendingPod(init, now));
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const pending = this.#c.get('pods', init.namespace, init.name);
      if (pending) {
        const started = this.#c.timing.now();
        this.#c.put('pods', this.#probed(startPod(pending, this.#podIp(init), started), started));
      }
      this.#notifyIfIdle();
    }, startMs);
    timer.unref();
    this.#timers.add(timer);
  }

  #syncEndpoints(namespace: string): void {
    const pods = this.#c
      .list('pods', namespace)
      .filter((p) => (p as Json).status?.podIP && !p.metadata.deletionTimestamp);
    this.#mirrorEndpoints(namespace);
    for (const svc of this.#c.list('services', namespace) as Json[]) {
      const selector = svc.spec?.selector;
      if (!selector || Object.keys(selector).length === 0) continue;
      const selects = matchLabelsSelector(selector);
      const members = pods.filter(
        (p) => selects(p.metadata.labels) && !['Succeeded', 'Failed'].includes((p as Json).status.phase),
      );
      this.#writeEndpoints(svc, members);
    }
  }

  /**
   * What the endpointslicemirroring controller does: for each selector-less Service whose Endpoints are
   * not labelled skip-mirror, one EndpointSlice (managed-by endpointslicemirroring-controller.k8s.io)
   * holding the same addresses and ports; it is rewritten whenever it differs, and removed with them.
   */
  #mirrorEndpoints(namespace: string): void {
    const services = new Map(
      (this.#c.list('services', namespace) as Json[]).map((s) => [s.metadata.name as string, s]),
    );
    const mirrored = (this.#c.list('endpointslices', namespace, 'discovery.k8s.io') as Json[]).filter(
      (s) => s.metadata.labels?.[MANAGED_BY] === MIRRORING,
    );
    for (const ep of this.#c.list('endpoints', namespace) as Json[]) {
      const name: string = ep.metadata.name;
      const svc = services.get(name);
      const mirror =
        svc &&
        Object.keys(svc.spec?.selector ?? {}).length === 0 &&
        ep.metadata.labels?.['endpointslice.kubernetes.io/skip-mirror'] !== 'true';
      if (!mirror) continue;
      const subsets = (ep.subsets ?? []) as Json[];
      const endpoints = subsets.flatMap((s) => [
        ...((s.addresses ?? []) as Json[]).map((a) => mirroredEndpoint(a, true)),
        ...((s.notReadyAddresses ?? []) as Json[]).map((a) => mirroredEndpoint(a, false)),
      ]);
      const ports = ((subsets[0]?.ports ?? []) as Json[]).map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        port: p.port,
        protocol: p.protocol ?? 'TCP',
      }));
      const sliceName = `${name}-${kubeSuffix(`mirror/${namespace}/${name}`, 5)}`;
      const slice = mirrored.find((s) => s.metadata.name === sliceName);
      const labels = {
        ...ep.metadata.labels,
        [MANAGED_BY]: MIRRORING,
        'kubernetes.io/service-name': name,
      };
      if (
        slice &&
        JSON.stringify([slice.endpoints, slice.ports, slice.metadata.labels]) ===
          JSON.stringify([endpoints, ports, labels])
      )
        continue;
      this.#c.put(
        'endpointslices',
        {
          metadata: {
            name: sliceName,
            generateName: `${name}-`,
            namespace,
            labels,
            creationTimestamp: slice?.metadata.creationTimestamp ?? ep.metadata.creationTimestamp,
            ...(slice ? { uid: slice.metadata.uid } : {}),
          },
          addressType: 'IPv4',
          endpoints,
          ports,
        },
        'discovery.k8s.io',
      );
    }
    for (const slice of mirrored) {
      const name = slice.metadata.labels?.['kubernetes.io/service-name'];
      const ep = name ? this.#c.get('endpoints', namespace, name) : undefined;
      const svc = name ? services.get(name) : undefined;
      if (!ep || !svc || Object.keys(svc.spec?.selector ?? {}).length > 0)
        this.#c.store.delete(SLICES, namespace, slice.metadata.name);
    }
  }

  #writeEndpoints(svc: Json, members: KubeObject[]): void {
    const ns: string = svc.metadata.namespace;
    const name: string = svc.metadata.name;
    const ports = ((svc.spec.ports ?? []) as Json[]).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
      protocol: p.protocol ?? 'TCP',
    }));
    const address = (p: Json) => ({
      ip: p.status.podIP,
      nodeName: p.spec.nodeName,
      targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
    });
    const ready = members.filter(isReady) as Json[];
    const notReady = members.filter((p) => !isReady(p)) as Json[];
    const subsets =
      members.length === 0
        ? undefined
        : [
            {
              ...(ready.length > 0 ? { addresses: ready.map(address) } : {}),
              ...(notReady.length > 0 ? { notReadyAddresses: notReady.map(address) } : {}),
              ports,
            },
          ];
    const existing = this.#c.get('endpoints', ns, name) as Json | undefined;
    const labels = svc.metadata.labels;
    if (!existing || JSON.stringify(existing.subsets) !== JSON.stringify(subsets)) {
      this.#c.put('endpoints', {
        metadata: {
          name,
          namespace: ns,
          ...(labels ? { labels } : {}),
          creationTimestamp: existing?.metadata.creationTimestamp ?? svc.metadata.creationTimestamp,
          ...(existing ? { uid: existing.metadata.uid } : {}),
        },
        ...(subsets ? { subsets } : {}),
      });
    }
    const sliceName = `${name}-${kubeSuffix(`slice/${ns}/${name}`, 5)}`;
    const slice = this.#c.get('endpointslices', ns, sliceName, 'discovery.k8s.io') as Json | undefined;
    const endpoints = (members as Json[]).map((p) => ({
      addresses: [p.status.podIP],
      conditions: { ready: isReady(p), serving: isReady(p), terminating: false },
      nodeName: p.spec.nodeName,
      targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
    }));
    if (!slice || JSON.stringify(slice.endpoints) !== JSON.stringify(endpoints)) {
      this.#c.put(
        'endpointslices',
        {
          metadata: {
            name: sliceName,
            generateName: `${name}-`,
            namespace: ns,
            labels: {
              ...labels,
              'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
              'kubernetes.io/service-name': name,
            },
            creationTimestamp: slice?.metadata.creationTimestamp ?? svc.metadata.creationTimestamp,
            ...(slice ? { uid: slice.metadata.uid } : {}),
          },
          addressType: 'IPv4',
          endpoints,
          ports,
        },
        'discovery.k8s.io',
      );
    }
  }
}

const SLICES = 'endpointslices.discovery.k8s.io';
const REPLICA_SETS = 'replicasets.apps';

/** Whether `object`'s controller is the `kind` named `name`. */
const ownedBy = (object: Json, kind: string, name: string) =>
  ((object.metadata.ownerReferences ?? []) as Json[]).some(
    (o) => o.controller && o.kind === kind && o.name === name,
  );

const restarts = (pod: Json) =>
  ((pod.status?.containerStatuses ?? []) as Json[]).reduce((n, c) => n + (c.restartCount ?? 0), 0);

/**
 * The ReplicaSet controller's choice of pods to remove (ActivePodsWithRanks): pending before running,
 * not ready before ready, more restarts first, newer first.
 */
function deletionOrder(a: Json, b: Json): number {
  const running = (p: Json) => (p.status?.phase === 'Running' ? 1 : 0);
  const ready = (p: Json) => (isReady(p) ? 1 : 0);
  return (
    running(a) - running(b) ||
    ready(a) - ready(b) ||
    restarts(b) - restarts(a) ||
    String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)) ||
    (a.metadata.name < b.metadata.name ? 1 : -1)
  );
}
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const MIRRORING = 'endpointslicemirroring-controller.k8s.io';

const mirroredEndpoint = (a: Json, ready: boolean) => ({
  addresses: [a.ip],
  conditions: { ready },
  ...(a.hostname ? { hostname: a.hostname } : {}),
  ...(a.nodeName ? { nodeName: a.nodeName } : {}),
  ...(a.targetRef ? { targetRef: a.targetRef } : {}),
});

export function ageMs(age: string): number {
  const n = Number(age.slice(0, -1));
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[age.slice(-1)] ?? 0;
  return n * unit;
}
