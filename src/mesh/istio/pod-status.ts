import { epochMs, exitText, type PodShape, printPod, restartsCell, since } from '../../kube/pod-status.ts';

/** A restart this close to the check is flagged: it is what someone is probably looking for right now. */
export const RECENT_RESTART_MS = 60 * 60_000;

/** How a container last ended, e.g. OOMKilled: the clue `kubectl describe` would otherwise be needed for. */
export interface Termination {
  container: string;
  reason: string;
  exitCode?: number;
  finishedAt?: string;
}

/**
 * One pod as `kubectl get pods` shows it (computed by kubectl's printPod in src/kube/pod-status.ts), plus the
 * facts a verdict needs; plain JSON.
 */
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

/** The pod fields a PodState is read from: client-node's V1Pod and plain pod JSON both fit. */
export interface PodStateShape extends PodShape {
  metadata?: PodShape['metadata'] & { name?: string; namespace?: string };
  status?: PodShape['status'] & { podIP?: string };
}

const iso = (t: Date | string) => new Date(epochMs(t)).toISOString();

/** The most recent way any container ended: its current termination, else its last one. */
function lastTermination(pod: PodStateShape): Termination | undefined {
  let best: { t: Termination; at: number } | undefined;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    for (const term of [s.state?.terminated, s.lastState?.terminated]) {
      // A Job's clean exit is not news; only abnormal endings explain a restart.
      if (!term || (term.exitCode === 0 && (term.reason ?? 'Completed') === 'Completed')) continue;
      const at = term.finishedAt ? epochMs(term.finishedAt) : 0;
      if (best && at <= best.at) continue;
      best = {
        at,
        t: {
          container: s.name,
          reason: term.reason || exitText(term),
          exitCode: term.exitCode,
          ...(term.finishedAt ? { finishedAt: iso(term.finishedAt) } : {}),
        },
      };
    }
  }
  return best?.t;
}

export function podState(pod: PodStateShape, now: number): PodState {
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
    ...(printed.lastRestart > 0 ? { lastRestartAt: new Date(printed.lastRestart).toISOString() } : {}),
    recentRestart:
      printed.restarts > 0 && printed.lastRestart > 0 && now - printed.lastRestart <= RECENT_RESTART_MS,
    ...(termination ? { lastTermination: termination } : {}),
    ...(created ? { createdAt: iso(created) } : {}),
    age: since(created, now),
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
  return restartsCell(pod.restarts, pod.lastRestartAt ? Date.parse(pod.lastRestartAt) : 0, now);
}
