import type { Health } from '../health.ts';
import { DAY_MS, type HistoryPort, parseRun, type Run } from '../history.ts';
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

/**
 * The current run with each component's running restart count carried on from the previous run. A cluster
 * that did not answer keeps its last known components, so the next run that reaches it counts on from there.
 */
export function carryRestarts(current: StatusRun, previous: StatusRun | undefined): StatusRun {
  const before = previous ? components(previous) : new Map<string, { component: Component }>();
  return {
    ...current,
    clusters: current.clusters.map((c) => {
      if (!c.reachable) {
        const known = previous?.clusters.find((p) => p.name === c.name)?.components ?? [];
        return { ...c, components: known };
      }
      return {
        ...c,
        components: c.components.map((x) => {
          const was = before.get(`${c.name}/${x.name}`)?.component;
          return was ? { ...x, restartsSoFar: was.restartsSoFar + restartsBetween(was, x) } : x;
        }),
      };
    }),
  };
}

/**
 * Pure: `current` with its restarts carried (carryRestarts), against `previous` and the oldest run of the last
 * day (`first`, which may be `previous` itself).
 */
export function statusChanges(
  first: Run<StatusRun>,
  previous: Run<StatusRun>,
  current: Run<StatusRun>,
  whole: boolean,
): StatusChanges {
  const before = components(previous);
  const oldest = components(first);
  const changed: ComponentChange[] = [];
  const restarts: Restarts[] = [];
  for (const [key, { cluster, component }] of components(current)) {
    const was = before.get(key)?.component;
    if (was && was.health !== component.health)
      changed.push({ cluster, component: component.name, from: was.health, to: component.health });
    // A running count lower than an earlier one started again (an unreadable run between): count from 0.
    const since = (run?: Component) =>
      run && run.restartsSoFar <= component.restartsSoFar
        ? component.restartsSoFar - run.restartsSoFar
        : component.restartsSoFar;
    const inWindow = since(oldest.get(key)?.component);
    if (inWindow > 0)
      restarts.push({ cluster, component: component.name, sincePrevious: since(was), inWindow });
  }
  const p = previous.proxies;
  const c = current.proxies;
  return {
    previousAt: previous.at,
    windowFrom: first.at,
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

/**
 * Compares a status report with the runs kept and keeps it (a whole-mesh run only: a single cluster's
 * report is compared, not kept). Reads four runs whatever the history holds: the previous status run, the
 * oldest of the last day, and the VPN runs on either side of the previous status run. Undefined when no
 * earlier status run is kept.
 */
export async function statusHistory(
  history: HistoryPort,
  report: StatusReport,
  at: number,
): Promise<StatusChanges | undefined> {
  const whole = report.cluster === undefined;
  const [last, oldest] = await Promise.all([history.last('status'), history.first('status', at - DAY_MS)]);
  const previous = parseRun(statusRunSchema, last);
  const current = carryRestarts(statusRunOf(report), previous);
  if (whole) await history.record('status', at, current);
  if (!previous) return undefined;
  const changes = statusChanges(
    parseRun(statusRunSchema, oldest) ?? previous,
    previous,
    { ...current, at },
    whole,
  );
  const [baseline, latest] = await Promise.all([
    history.last('vpn', previous.at).then((r) => parseRun(vpnRunSchema, r)),
    history.last('vpn').then((r) => parseRun(vpnRunSchema, r)),
  ]);
  if (baseline && latest && latest.at > previous.at)
    changes.vpn = { at: latest.at, ...failingChanges(baseline, latest) };
  return changes;
}
