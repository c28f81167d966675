import type { Health } from '../health.ts';
import { DAY_MS, type HistoryPort, parseRuns, type Run } from '../history.ts';
import { type StatusRun, statusRunOf, statusRunSchema } from '../istio/history.ts';
import type { ComponentHealth, StatusReport } from '../istio/report.ts';
import { failingChanges, vpnRunSchema } from '../vpn/history.ts';

/**
 * What changed since the previous status run, from the runs history keeps: components that became ready
 * or unready, restarts since the previous run and over the last day, proxies that went STALE, and VPN
 * pairs that started failing in the VPN checks run since.
 */

export interface ComponentChange {
  cluster: string;
  component: string;
  from: ComponentHealth;
  to: ComponentHealth;
}

export interface Restarts {
  cluster: string;
  component: string;
  sincePrevious: number;
  /** Since `StatusChanges.windowFrom`, this run included. */
  inWindow: number;
}

export interface StatusChanges {
  previousAt: number;
  /** The oldest run of the last day kept (or the previous run, when older): where restart counts start. */
  windowFrom: number;
  verdict?: { from: Health; to: Health };
  components: ComponentChange[];
  /** Components whose pods restarted (a container restart, or a pod replaced) within the window. */
  restarts: Restarts[];
  /** Whole-mesh runs only: a single cluster's counts are not comparable with the mesh's. */
  proxies?: {
    newlyStale: string[];
    stale: { before: number; now: number };
    unknown: { before: number; now: number };
  };
  /** The VPN checks run since the previous status run, against the last one before it. */
  vpn?: { at: number; newlyFailing: string[]; recovered: string[] };
}

type Component = StatusRun['clusters'][number]['components'][number];

/** Container restarts, plus pods replaced (a pod gone and a new one in its place), between two runs. */
function restartsBetween(a: Component, b: Component): number {
  const before = new Map(a.pods.map((p) => [p.name, p.restarts]));
  const names = new Set(b.pods.map((p) => p.name));
  let restarts = 0;
  let fresh = 0;
  for (const p of b.pods) {
    const r = before.get(p.name);
    if (r === undefined) {
      fresh++;
      restarts += p.restarts;
    } else restarts += Math.max(0, p.restarts - r);
  }
  const gone = a.pods.filter((p) => !names.has(p.name)).length;
  return restarts + Math.min(fresh, gone);
}

function components(run: StatusRun): Map<string, { cluster: string; component: Component }> {
  return new Map(
    run.clusters.flatMap((c) =>
      c.components.map((x) => [`${c.name}/${x.name}`, { cluster: c.name, component: x }] as const),
    ),
  );
}

/** Pure: `window` holds the runs of the last day, oldest first, ending with `previous`. */
export function statusChanges(
  window: readonly Run<StatusRun>[],
  current: Run<StatusRun>,
  whole: boolean,
): StatusChanges | undefined {
  const previous = window.at(-1);
  if (!previous) return undefined;
  const before = components(previous);
  const now = components(current);
  const changed: ComponentChange[] = [];
  for (const [key, { cluster, component }] of now) {
    const was = before.get(key)?.component;
    if (was && was.health !== component.health)
      changed.push({ cluster, component: component.name, from: was.health, to: component.health });
  }
  const chain = [...window, current];
  const maps = chain.map(components);
  const restarts: Restarts[] = [];
  for (const [key, { cluster, component }] of now) {
    let inWindow = 0;
    let sincePrevious = 0;
    for (let i = 1; i < maps.length; i++) {
      const a = maps[i - 1]!.get(key)?.component;
      const b = maps[i]!.get(key)?.component;
      if (!a || !b) continue;
      const n = restartsBetween(a, b);
      inWindow += n;
      if (i === maps.length - 1) sincePrevious = n;
    }
    if (inWindow > 0) restarts.push({ cluster, component: component.name, sincePrevious, inWindow });
  }
  const p = previous.proxies;
  const c = current.proxies;
  return {
    previousAt: previous.at,
    windowFrom: chain[0]!.at,
    ...(previous.health !== current.health ? { verdict: { from: previous.health, to: current.health } } : {}),
    components: changed,
    restarts: restarts.sort((x, y) => y.inWindow - x.inWindow),
    ...(whole && p && c
      ? {
          proxies: {
            newlyStale: c.staleIds.filter((id) => !p.staleIds.includes(id)),
            stale: { before: p.stale, now: c.stale },
            unknown: { before: p.unknown, now: c.unknown },
          },
        }
      : {}),
  };
}

/** Runs of VPN checks looked at for "started failing since": more than a day of frequent runs is not needed. */
const VPN_RUNS_READ = 200;

/**
 * Compares a status report with the runs kept and keeps it (a whole-mesh run only: a single cluster's
 * report is compared, not kept). Undefined when nothing earlier is kept.
 */
export async function statusHistory(
  history: HistoryPort,
  report: StatusReport,
  at: number,
): Promise<StatusChanges | undefined> {
  const whole = report.cluster === undefined;
  const [day, last, vpnRuns] = await Promise.all([
    history.since('status', at - DAY_MS),
    history.recent('status', 1),
    history.recent('vpn', VPN_RUNS_READ),
  ]);
  const window = parseRuns(statusRunSchema, day);
  if (window.length === 0) window.push(...parseRuns(statusRunSchema, last));
  const current = { ...statusRunOf(report), at };
  if (whole) await history.record('status', at, statusRunOf(report));
  const changes = statusChanges(window, current, whole);
  if (!changes) return undefined;
  const vpn = parseRuns(vpnRunSchema, vpnRuns);
  const baseline = vpn.filter((r) => r.at <= changes.previousAt).at(-1);
  const latest = vpn.at(-1);
  if (baseline && latest && latest.at > changes.previousAt)
    changes.vpn = { at: latest.at, ...failingChanges(baseline, latest) };
  return changes;
}
