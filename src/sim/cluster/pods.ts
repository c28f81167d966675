// Pod objects and their lifecycle, shaped as the kubelet reports them (core/v1 PodStatus):
// the pure transitions faults and controllers apply. Each returns a new object.

import { hexId } from './ids.ts';
import type { Json, KubeObject } from './store.ts';

export interface PodInit {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences: KubeObject['metadata']['ownerReferences'];
  /** core/v1 PodSpec without nodeName. */
  spec: Json;
  nodeName: string;
  hostIP: string;
  createdAt: Date;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function containerId(podUid: string, container: string, restarts: number): string {
  return `docker://${hexId(`${podUid}/${container}/${restarts}`, 64)}`;
}

function imageId(image: string): string {
  const repo = image.replace(/:[^:/]+$/, '');
  return `docker-pullable://${repo}@sha256:${hexId(`image:${image}`, 64)}`;
}

function condition(type: string, ok: boolean, at: string, reason?: string, message?: string) {
  return {
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: at,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

/** Recomputes the Ready/ContainersReady conditions from the container statuses. */
function withConditions(pod: Json, now: number): Json {
  const statuses: Json[] = pod.status.containerStatuses ?? [];
  const succeeded = pod.status.phase === 'Succeeded';
  const unready = statuses.filter((c) => !c.ready).map((c) => c.name);
  const ready = !succeeded && unready.length === 0 && statuses.length > 0;
  const previous = new Map<string, Json>(((pod.status.conditions ?? []) as Json[]).map((c) => [c.type, c]));
  const keep = (c: Json) => {
    const before = previous.get(c.type);
    return before && before.status === c.status ? { ...c, lastTransitionTime: before.lastTransitionTime } : c;
  };
  const at = iso(now);
  const reason = succeeded ? 'PodCompleted' : ready ? undefined : 'ContainersNotReady';
  const message = !succeeded && !ready ? `containers with unready status: [${unready.join(' ')}]` : undefined;
  const initialized = previous.get('Initialized');
  const scheduled = previous.get('PodScheduled');
  return {
    ...pod,
    status: {
      ...pod.status,
      conditions: [
        initialized ?? condition('Initialized', true, at, succeeded ? 'PodCompleted' : undefined),
        keep(condition('Ready', ready, at, reason, message)),
        keep(condition('ContainersReady', ready, at, reason, message)),
        scheduled ?? condition('PodScheduled', true, at),
      ],
    },
  };
}

function runningStatus(pod: Json, name: string, image: string, startedAt: number) {
  return {
    name,
    state: { running: { startedAt: iso(startedAt) } },
    lastState: {},
    ready: true,
    restartCount: 0,
    image,
    imageID: imageId(image),
    containerID: containerId(pod.metadata.uid, name, 0),
    started: true,
  };
}

function completedStatus(pod: Json, name: string, image: string, startedAt: number, finishedAt: number) {
  return {
    name,
    state: {
      terminated: {
        exitCode: 0,
        reason: 'Completed',
        startedAt: iso(startedAt),
        finishedAt: iso(finishedAt),
        containerID: containerId(pod.metadata.uid, name, 0),
      },
    },
    lastState: {},
    ready: false,
    restartCount: 0,
    image,
    imageID: imageId(image),
    containerID: containerId(pod.metadata.uid, name, 0),
    started: false,
  };
}

function skeleton(init: PodInit): Json {
  return {
    metadata: {
      name: init.name,
      generateName: init.name.slice(0, init.name.lastIndexOf('-') + 1),
      namespace: init.namespace,
      uid: init.uid,
      creationTimestamp: iso(init.createdAt.getTime()),
      labels: init.labels,
      ...(init.annotations && Object.keys(init.annotations).length > 0
        ? { annotations: init.annotations }
        : {}),
      ...(init.ownerReferences ? { ownerReferences: init.ownerReferences } : {}),
    },
    spec: { ...init.spec, nodeName: init.nodeName },
    status: {
      phase: 'Pending',
      hostIP: init.hostIP,
      startTime: iso(init.createdAt.getTime()),
      qosClass: 'BestEffort',
    },
  };
}

/** A pod that is up: init containers completed, every container running and ready. */
export function runningPod(init: PodInit, podIP: string, now: number): KubeObject {
  return startPod(skeleton(init) as KubeObject, podIP, now);
}

/** A freshly scheduled pod whose containers are still being created (no IP yet). */
export function pendingPod(init: PodInit, now: number): KubeObject {
  const pod = skeleton(init);
  pod.status.containerStatuses = (pod.spec.containers as Json[]).map((c) => ({
    name: c.name,
    state: { waiting: { reason: 'ContainerCreating' } },
    lastState: {},
    ready: false,
    restartCount: 0,
    image: c.image,
    imageID: '',
    started: false,
  }));
  return withConditions(pod, now) as KubeObject;
}

export function startPod(pending: KubeObject, podIP: string, now: number): KubeObject {
  const pod = pending as Json;
  const created = Date.parse(pod.metadata.creationTimestamp);
  const startedAt = Math.min(now, created + 4000);
  const init: Json[] = pod.spec.initContainers ?? [];
  const next: Json = {
    ...pod,
    status: {
      ...pod.status,
      phase: 'Running',
      podIP,
      podIPs: [{ ip: podIP }],
      ...(init.length > 0
        ? {
            initContainerStatuses: init.map((c) =>
              completedStatus(pod, c.name, c.image, created + 1000, created + 2000),
            ),
          }
        : {}),
      containerStatuses: (pod.spec.containers as Json[]).map((c) =>
        runningStatus(pod, c.name, c.image, startedAt),
      ),
    },
  };
  return withConditions(next, now) as KubeObject;
}

/** A finished Job pod: phase Succeeded, containers terminated with reason Completed. */
export function succeededPod(init: PodInit, podIP: string, now: number): KubeObject {
  const pod = skeleton(init);
  const created = init.createdAt.getTime();
  pod.status = {
    ...pod.status,
    phase: 'Succeeded',
    podIP,
    podIPs: [{ ip: podIP }],
    containerStatuses: (pod.spec.containers as Json[]).map((c) =>
      completedStatus(pod, c.name, c.image, created + 3000, created + 9000),
    ),
  };
  return withConditions(pod, now) as KubeObject;
}

function updateContainer(
  pod: KubeObject,
  container: string,
  change: (status: Json) => Json,
  now: number,
): KubeObject {
  const p = pod as Json;
  const statuses: Json[] = p.status.containerStatuses ?? [];
  if (!statuses.some((c) => c.name === container)) {
    throw new Error(`pod ${p.metadata.name} has no container ${container}`);
  }
  const next = {
    ...p,
    status: { ...p.status, containerStatuses: statuses.map((c) => (c.name === container ? change(c) : c)) },
  };
  return withConditions(next, now) as KubeObject;
}

export type TerminationReason = 'Error' | 'OOMKilled';

/** One more failed start: restartCount grows, the kubelet backs off (CrashLoopBackOff). */
export function crashLoop(
  pod: KubeObject,
  container: string,
  reason: TerminationReason,
  now: number,
): KubeObject {
  return updateContainer(
    pod,
    container,
    (c) => {
      const restartCount = (c.restartCount ?? 0) + 1;
      return {
        ...c,
        ready: false,
        started: false,
        restartCount,
        state: {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off 5m0s restarting failed container=${container} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
          },
        },
        lastState: {
          terminated: {
            exitCode: reason === 'OOMKilled' ? 137 : 1,
            reason,
            startedAt: iso(now - 12_000),
            finishedAt: iso(now - 1000),
            containerID: containerId(pod.metadata.uid ?? '', container, restartCount),
          },
        },
        containerID: containerId(pod.metadata.uid ?? '', container, restartCount),
      };
    },
    now,
  );
}

/** The readiness probe fails (or passes again): the container keeps running. */
export function setContainerReady(
  pod: KubeObject,
  container: string,
  ready: boolean,
  now: number,
): KubeObject {
  return updateContainer(
    pod,
    container,
    (c) => ({
      ...c,
      ready,
      started: true,
      state: c.state?.running ? c.state : { running: { startedAt: iso(now) } },
    }),
    now,
  );
}

/** The image cannot be pulled: the container never starts and the pod stays Pending. */
export function imagePullBackOff(pod: KubeObject, container: string, image: string, now: number): KubeObject {
  const p = pod as Json;
  const spec = {
    ...p.spec,
    containers: (p.spec.containers as Json[]).map((c) => (c.name === container ? { ...c, image } : c)),
  };
  const updated = updateContainer(
    { ...p, metadata: p.metadata, spec },
    container,
    (c) => ({
      ...c,
      image,
      imageID: '',
      ready: false,
      started: false,
      state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } },
    }),
    now,
  );
  return { ...updated, status: { ...(updated as Json).status, phase: 'Pending' } } as KubeObject;
}
