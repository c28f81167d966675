// kubectl's pod row as the API server prints it for `kubectl get pods` (Table): printPod in kubernetes
// pkg/printers/internalversion/printers.go, and apimachinery's duration.HumanDuration for AGE and the
// RESTARTS suffix. Ported here from the Go source on its own, not shared with meshops: the real kubectl
// shows these cells, so a test comparing meshops' pod status with `kubectl get pods` against the
// simulation compares two independent readings of the same rules.

/** A container status as the sim stores it (plain JSON, timestamps as RFC 3339 strings). */
interface ContainerStatusJson {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerStateJson;
  lastState?: ContainerStateJson;
}

interface ContainerStateJson {
  waiting?: { reason?: string };
  running?: object;
  terminated?: { exitCode?: number; signal?: number; reason?: string; finishedAt?: string };
}

/** A pod as the sim stores it, as far as the Table printer reads it. */
export interface PodLike {
  metadata: { name: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec?: {
    containers?: readonly unknown[];
    initContainers?: readonly { name: string; restartPolicy?: string }[];
    nodeName?: string;
    readinessGates?: { conditionType: string }[];
  };
  status?: {
    phase?: string;
    reason?: string;
    conditions?: readonly { type: string; status: string; reason?: string }[];
    initContainerStatuses?: readonly ContainerStatusJson[];
    containerStatuses?: readonly ContainerStatusJson[];
    podIP?: string;
    podIPs?: { ip: string }[];
    nominatedNodeName?: string;
  };
}

/** duration.HumanDuration: the shortest text kubectl uses for a span, from "0s" to "8y". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  // Up to two seconds in the future counts as now: clocks of client and server differ.
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** translateTimestampSince: the age of a timestamp, "<unknown>" for a zero one. */
export function translateTimestampSince(timestamp: string | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  return humanDuration(now - Date.parse(timestamp));
}

const isRestartableInitContainer = (c: { restartPolicy?: string } | undefined) =>
  c?.restartPolicy === 'Always';

/** The NAME, READY, STATUS, RESTARTS and AGE cells, in printPod's order of reasoning. */
export function podCells(pod: PodLike, now: number): [string, string, string, string, string] {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitContainerRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestartDate = 0;
  let lastRestartableInitContainerRestartDate = 0;

  const podPhase = status.phase ?? '';
  let reason = podPhase;
  if (status.reason) reason = status.reason;
  for (const condition of status.conditions ?? []) {
    if (condition.type === 'PodScheduled' && condition.reason === 'SchedulingGated')
      reason = 'SchedulingGated';
  }

  const initContainers = new Map<string, { restartPolicy?: string }>();
  for (const c of spec.initContainers ?? []) {
    initContainers.set(c.name, c);
    if (isRestartableInitContainer(c)) totalContainers++;
  }

  const finishedAt = (c: ContainerStatusJson) => {
    const t = c.lastState?.terminated;
    return t ? Date.parse(t.finishedAt ?? '') || 0 : 0;
  };

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i]!;
    restarts += container.restartCount ?? 0;
    lastRestartDate = Math.max(lastRestartDate, finishedAt(container));
    const restartable = isRestartableInitContainer(initContainers.get(container.name));
    if (restartable) {
      restartableInitContainerRestarts += container.restartCount ?? 0;
      lastRestartableInitContainerRestartDate = Math.max(
        lastRestartableInitContainerRestartDate,
        finishedAt(container),
      );
    }
    const terminated = container.state?.terminated;
    const waiting = container.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (restartable && container.started === true) {
      if (container.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      // initialization failed
      if (!terminated.reason)
        reason = terminated.signal
          ? `Init:Signal:${terminated.signal}`
          : `Init:ExitCode:${terminated.exitCode ?? 0}`;
      else reason = `Init:${terminated.reason}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  const podInitialized = (status.conditions ?? []).some(
    (c) => c.type === 'Initialized' && c.status === 'True',
  );
  if (!initializing || podInitialized) {
    restarts = restartableInitContainerRestarts;
    lastRestartDate = lastRestartableInitContainerRestartDate;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i]!;
      restarts += container.restartCount ?? 0;
      lastRestartDate = Math.max(lastRestartDate, finishedAt(container));
      const state = container.state ?? {};
      if (state.waiting?.reason) reason = state.waiting.reason;
      else if (state.terminated?.reason) reason = state.terminated.reason;
      else if (state.terminated)
        reason = state.terminated.signal
          ? `Signal:${state.terminated.signal}`
          : `ExitCode:${state.terminated.exitCode ?? 0}`;
      else if (container.ready && state.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // change pod status back to "Running" if there is at least one container still reporting as "Running"
    if (reason === 'Completed' && hasRunning) {
      const hasPodReadyCondition = (status.conditions ?? []).some(
        (c) => c.type === 'Ready' && c.status === 'True',
      );
      reason = hasPodReadyCondition ? 'Running' : 'NotReady';
    }
  }

  const deleting = pod.metadata.deletionTimestamp !== undefined;
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && podPhase !== 'Succeeded' && podPhase !== 'Failed') reason = 'Terminating';

  const restartsText =
    restarts !== 0 && lastRestartDate !== 0
      ? `${restarts} (${humanDuration(now - lastRestartDate)} ago)`
      : String(restarts);
  return [
    pod.metadata.name,
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsText,
    translateTimestampSince(pod.metadata.creationTimestamp, now),
  ];
}

/** The `-o wide` cells: IP, NODE, NOMINATED NODE, READINESS GATES. */
export function podWideCells(pod: PodLike): string[] {
  const status = pod.status ?? {};
  const ip = status.podIPs?.[0]?.ip ?? status.podIP ?? '';
  const gates = pod.spec?.readinessGates ?? [];
  let gatesText = '<none>';
  if (gates.length > 0) {
    const trueConditions = new Set(
      (status.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type),
    );
    gatesText = `${gates.filter((g) => trueConditions.has(g.conditionType)).length}/${gates.length}`;
  }
  return [ip || '<none>', pod.spec?.nodeName || '<none>', status.nominatedNodeName || '<none>', gatesText];
}
