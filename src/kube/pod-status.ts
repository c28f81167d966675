/**
 * kubectl's READY, STATUS, RESTARTS and AGE for a pod: a port of printPod in kubernetes
 * pkg/printers/internalversion/printers.go and of apimachinery's
 * duration.HumanDuration, so that meshops' status check never contradicts what an SRE sees with
 * `kubectl get pods` (test/mesh/istio/kubectl.test.ts compares them through the real kubectl; the simulated
 * clusters print their Tables with their own port, src/sim/api/pod-printer.ts).
 *
 * Works on a structural pod: client-node's V1Pod (timestamps as Date) and plain pod JSON (timestamps
 * as RFC 3339 strings) both fit.
 */

export type Timestamp = Date | string;

export interface ContainerTermination {
  exitCode?: number;
  signal?: number;
  reason?: string;
  finishedAt?: Timestamp;
}

export interface ContainerStateShape {
  waiting?: { reason?: string };
  running?: object;
  terminated?: ContainerTermination;
}

export interface ContainerStatusShape {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerStateShape;
  lastState?: ContainerStateShape;
}

export interface PodShape {
  metadata?: { creationTimestamp?: Timestamp; deletionTimestamp?: Timestamp };
  spec?: {
    containers?: readonly unknown[];
    initContainers?: readonly { name: string; restartPolicy?: string }[];
  };
  status?: {
    phase?: string;
    reason?: string;
    conditions?: readonly { type: string; status: string; reason?: string }[];
    initContainerStatuses?: readonly ContainerStatusShape[];
    containerStatuses?: readonly ContainerStatusShape[];
  };
}

/** What printPod computes: STATUS (`reason`), READY (`ready`/`total`), RESTARTS and the last one's end. */
export interface PrintedPod {
  reason: string;
  ready: number;
  total: number;
  restarts: number;
  /** When the most recently restarted container last ended, in epoch ms; 0 when unknown. */
  lastRestart: number;
}

/** kubectl's four columns as it prints them. */
export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
  age: string;
}

/** Epoch ms of a Date or RFC 3339 string. */
export function epochMs(t: Timestamp): number {
  return t instanceof Date ? t.getTime() : Date.parse(t);
}

/** `Signal:9` or `ExitCode:3`: how kubectl names a termination that carries no reason. */
export function exitText(t: ContainerTermination, prefix = ''): string {
  return t.signal ? `${prefix}Signal:${t.signal}` : `${prefix}ExitCode:${t.exitCode ?? 0}`;
}

const lastFinished = (s: ContainerStatusShape) => {
  const t = s.lastState?.terminated?.finishedAt;
  return t ? epochMs(t) : 0;
};

export function printPod(pod: PodShape): PrintedPod {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const initSpecs = new Map((spec.initContainers ?? []).map((c) => [c.name, c]));
  const isSidecar = (name: string) => initSpecs.get(name)?.restartPolicy === 'Always';
  const total =
    (spec.containers ?? []).length + (spec.initContainers ?? []).filter((c) => isSidecar(c.name)).length;
  let ready = 0;
  let restarts = 0;
  let last = 0;
  let sidecarRestarts = 0;
  let sidecarLast = 0;
  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  if (status.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated'))
    reason = 'SchedulingGated';

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (const [i, c] of initStatuses.entries()) {
    restarts += c.restartCount ?? 0;
    last = Math.max(last, lastFinished(c));
    const sidecar = isSidecar(c.name);
    if (sidecar) {
      sidecarRestarts += c.restartCount ?? 0;
      sidecarLast = Math.max(sidecarLast, lastFinished(c));
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && c.started) {
      if (c.ready) ready++;
      continue;
    }
    if (terminated) reason = terminated.reason ? `Init:${terminated.reason}` : exitText(terminated, 'Init:');
    else if (waiting?.reason && waiting.reason !== 'PodInitializing') reason = `Init:${waiting.reason}`;
    else reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    initializing = true;
    break;
  }

  const initialized = status.conditions?.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    last = sidecarLast;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += c.restartCount ?? 0;
      last = Math.max(last, lastFinished(c));
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = exitText(terminated);
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const podReady = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      reason = podReady ? 'Running' : 'NotReady';
    }
  }

  const deleting = Boolean(pod.metadata?.deletionTimestamp);
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  return { reason, ready, total, restarts, lastRestart: last };
}

/** apimachinery's duration.HumanDuration, the AGE column. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (days < 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** kubectl's translateTimestampSince: the AGE of a timestamp, `<unknown>` without one. */
export function since(timestamp: Timestamp | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  return humanDuration(now - epochMs(timestamp));
}

/** kubectl's RESTARTS cell, e.g. "3 (5m ago)"; `lastRestart` in epoch ms, 0 when unknown. */
export function restartsCell(restarts: number, lastRestart: number, now: number): string {
  if (restarts === 0 || lastRestart <= 0) return String(restarts);
  return `${restarts} (${humanDuration(now - lastRestart)} ago)`;
}

/** The READY, STATUS, RESTARTS and AGE cells of `kubectl get pods`. */
export function summarizePod(pod: PodShape, now: number): PodSummary {
  const printed = printPod(pod);
  return {
    ready: `${printed.ready}/${printed.total}`,
    status: printed.reason,
    restarts: restartsCell(printed.restarts, printed.lastRestart, now),
    age: since(pod.metadata?.creationTimestamp, now),
  };
}
