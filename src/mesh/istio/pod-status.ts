import type { V1Container, V1ContainerState, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

/** A restart this close to the check is flagged: it is what someone is probably looking for right now. */
export const RECENT_RESTART_MS = 60 * 60_000;

/** How a container last ended, e.g. OOMKilled: the clue `kubectl describe` would otherwise be needed for. */
export interface Termination {
  container: string;
  reason: string;
  exitCode?: number;
  finishedAt?: string;
}

/** One pod as `kubectl get pods` shows it, plus the facts a verdict needs; plain JSON. */
export interface PodState {
  name: string;
  namespace: string;
  /** kubectl's READY column, e.g. "1/2". */
  ready: string;
  readyContainers: number;
  totalContainers: number;
  /** kubectl's STATUS column: Running, CrashLoopBackOff, Init:0/1, Completed, Terminating, … */
  status: string;
  restarts: number;
  lastRestartAt?: string;
  /** The last restart happened within RECENT_RESTART_MS of the check. */
  recentRestart: boolean;
  lastTermination?: Termination;
  createdAt?: string;
  /** kubectl's AGE column. */
  age: string;
  ip?: string;
  /** Serving (Running with every container ready) or a finished Job pod (Completed). */
  healthy: boolean;
  /** Succeeded or Failed: the pod will not run again (a Job's pod, an evicted pod). */
  finished: boolean;
  completed: boolean;
  terminating: boolean;
}

const isSidecar = (c: V1Container | undefined) => c?.restartPolicy === 'Always';

const lastFinished = (s: V1ContainerStatus) => s.lastState?.terminated?.finishedAt?.getTime() ?? 0;

function exitText(prefix: string, t: NonNullable<V1ContainerState['terminated']>): string {
  return t.signal ? `${prefix}Signal:${t.signal}` : `${prefix}ExitCode:${t.exitCode ?? 0}`;
}

/**
 * kubectl's STATUS, READY and RESTARTS, re-derived from printPod in
 * kubernetes pkg/printers/internalversion/printers.go (research kubernetes.md §4.2), so the bot
 * never contradicts what an SRE sees with `kubectl get pods`.
 */
function printPod(pod: V1Pod): {
  reason: string;
  ready: number;
  total: number;
  restarts: number;
  last: number;
} {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initSpecs = new Map((spec?.initContainers ?? []).map((c) => [c.name, c]));
  const total = (spec?.containers ?? []).length + (spec?.initContainers ?? []).filter(isSidecar).length;
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
    restarts += c.restartCount;
    last = Math.max(last, lastFinished(c));
    const sidecar = isSidecar(initSpecs.get(c.name));
    if (sidecar) {
      sidecarRestarts += c.restartCount;
      sidecarLast = Math.max(sidecarLast, lastFinished(c));
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (sidecar && c.started) {
      if (c.ready) ready++;
      continue;
    }
    if (terminated) reason = terminated.reason ? `Init:${terminated.reason}` : exitText('Init:', terminated);
    else if (waiting?.reason && waiting.reason !== 'PodInitializing') reason = `Init:${waiting.reason}`;
    else reason = `Init:${i}/${(spec?.initContainers ?? []).length}`;
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
      restarts += c.restartCount;
      last = Math.max(last, lastFinished(c));
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = exitText('', terminated);
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

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed')
    reason = 'Terminating';
  return { reason, ready, total, restarts, last };
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

/** The most recent way any container ended: its current termination, else its last one. */
function lastTermination(pod: V1Pod): Termination | undefined {
  let best: { t: Termination; at: number } | undefined;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    for (const term of [s.state?.terminated, s.lastState?.terminated]) {
      // A Job's clean exit is not news; only abnormal endings explain a restart.
      if (!term || (term.exitCode === 0 && (term.reason ?? 'Completed') === 'Completed')) continue;
      const at = term.finishedAt?.getTime() ?? 0;
      if (best && at <= best.at) continue;
      best = {
        at,
        t: {
          container: s.name,
          reason: term.reason || exitText('', term),
          exitCode: term.exitCode,
          ...(term.finishedAt ? { finishedAt: term.finishedAt.toISOString() } : {}),
        },
      };
    }
  }
  return best?.t;
}

export function podState(pod: V1Pod, now: number): PodState {
  const printed = printPod(pod);
  const created = pod.metadata?.creationTimestamp;
  const phase = pod.status?.phase;
  const completed = phase === 'Succeeded';
  const terminating = printed.reason === 'Terminating';
  const termination = lastTermination(pod);
  const ip = pod.status?.podIP;
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    ready: `${printed.ready}/${printed.total}`,
    readyContainers: printed.ready,
    totalContainers: printed.total,
    status: printed.reason,
    restarts: printed.restarts,
    ...(printed.last > 0 ? { lastRestartAt: new Date(printed.last).toISOString() } : {}),
    recentRestart: printed.restarts > 0 && printed.last > 0 && now - printed.last <= RECENT_RESTART_MS,
    ...(termination ? { lastTermination: termination } : {}),
    ...(created ? { createdAt: created.toISOString() } : {}),
    age: created ? humanDuration(now - created.getTime()) : '<unknown>',
    ...(ip ? { ip } : {}),
    healthy:
      completed || (printed.reason === 'Running' && printed.total > 0 && printed.ready === printed.total),
    finished: completed || phase === 'Failed',
    completed,
    terminating,
  };
}

/** kubectl's RESTARTS cell, e.g. "3 (5m ago)". */
export function restartsText(pod: PodState, now: number): string {
  if (pod.restarts === 0 || !pod.lastRestartAt) return String(pod.restarts);
  return `${pod.restarts} (${humanDuration(now - Date.parse(pod.lastRestartAt))} ago)`;
}
