import { z } from 'zod';
import type { ProxyCounts, StatusReport } from './report.ts';
import { type ProxySync, proxyState } from './syncz.ts';

/**
 * A status run as history keeps it: per cluster, each component's health, its pods' restart counts and a
 * running count of restarts, and pilot's proxy counts with the STALE ones named. Enough to say what changed
 * from two runs (the previous, and the oldest of the day), small enough to keep a week of runs.
 */

/** Proxies named per run at most: the count says the rest. */
const MAX_NAMED_PROXIES = 50;

const health = z.enum(['healthy', 'degraded', 'down', 'failed']);
const count = z.number().int().min(0);

/** Pilot's proxy counts as a run keeps them: `/mesh status` and `/mesh proxies` both record these. */
export const proxySyncRunSchema = z.object({
  total: count,
  synced: count,
  stale: count,
  notSent: count,
  unknown: count,
  staleIds: z.array(z.string()),
});
export type ProxySyncRun = z.infer<typeof proxySyncRunSchema>;

export function proxySyncRun(counts: ProxyCounts, proxies: readonly ProxySync[]): ProxySyncRun {
  const staleIds = proxies.filter((p) => proxyState(p) === 'stale').map((p) => p.id);
  return { ...counts, staleIds: staleIds.slice(0, MAX_NAMED_PROXIES) };
}

export const statusRunSchema = z.object({
  health,
  clusters: z.array(
    z.object({
      name: z.string(),
      reachable: z.boolean(),
      components: z.array(
        z.object({
          name: z.string(),
          health: z.enum(['ok', 'degraded', 'down', 'missing', 'unknown']),
          ready: count,
          total: count,
          pods: z.array(z.object({ name: z.string(), restarts: count })),
          /** Restarts counted since history first kept the component: two runs' difference is theirs. */
          restartsSoFar: count,
        }),
      ),
    }),
  ),
  proxies: proxySyncRunSchema.optional(),
});
export type StatusRun = z.infer<typeof statusRunSchema>;

/** The run of a report, its running restart counts still at 0 (the comparison with the previous run sets them). */
export function statusRunOf(report: StatusReport): StatusRun {
  return {
    health: report.health,
    clusters: report.clusters.map((c) => ({
      name: c.name,
      reachable: c.reachable,
      components: c.components.map((x) => ({
        name: x.name,
        health: x.health,
        ready: x.ready,
        total: x.total,
        pods: x.pods.map((p) => ({ name: p.name, restarts: p.restarts })),
        restartsSoFar: 0,
      })),
    })),
    ...(report.proxies
      ? { proxies: { ...report.proxies.counts, staleIds: report.proxies.stale.slice(0, MAX_NAMED_PROXIES) } }
      : {}),
  };
}
