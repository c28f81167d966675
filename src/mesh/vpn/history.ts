import { z } from 'zod';
import { type HistoryPort, parseRun, type Run } from '../history.ts';
import type { Comparison, ProbeResult, ProbeStatus, RttChange, VpnReport } from './report.ts';

/**
 * A matrix run as history keeps it: per pair, its status, average RTT and loss. Pairs are keyed
 * `from>to/label`, so a restarted pod is the same pair. The next run compares with the latest one kept;
 * the daily digest charts a day of them.
 */

export const vpnRunSchema = z.object({
  verdict: z.enum(['healthy', 'degraded', 'down', 'failed']),
  pairs: z.record(
    z.string(),
    z.object({
      status: z.enum(['ok', 'slow', 'loss', 'lost', 'error', 'unparsed']),
      avgMs: z.number().optional(),
      lossPercent: z.number().optional(),
    }),
  ),
});
export type VpnRun = z.infer<typeof vpnRunSchema>;

export function vpnRunOf(report: Pick<VpnReport, 'verdict' | 'probes'>): VpnRun {
  const pairs: VpnRun['pairs'] = {};
  for (const p of report.probes) pairs[p.key] = pairOf(p);
  return { verdict: report.verdict, pairs };
}

function pairOf(p: ProbeResult): VpnRun['pairs'][string] {
  if (p.outcome.kind !== 'stats') return { status: p.status };
  const avg = p.outcome.rtt?.avg;
  return {
    status: p.status,
    lossPercent: p.outcome.lossPercent,
    ...(avg !== undefined ? { avgMs: avg } : {}),
  };
}

export const FAILING: ReadonlySet<ProbeStatus> = new Set(['lost', 'loss', 'error']);
// Sub-millisecond round trips jitter by more than 50% without meaning anything.
const MIN_RTT_CHANGE_MS = 1;

/** Pairs that started failing and pairs that recovered between two runs. */
export function failingChanges(
  previous: VpnRun,
  current: VpnRun,
): { newlyFailing: string[]; recovered: string[] } {
  const newlyFailing: string[] = [];
  const recovered: string[] = [];
  for (const [key, now] of Object.entries(current.pairs)) {
    const before = previous.pairs[key];
    if (!before) continue;
    if (FAILING.has(now.status) && !FAILING.has(before.status)) newlyFailing.push(key);
    if (!FAILING.has(now.status) && FAILING.has(before.status)) recovered.push(key);
  }
  return { newlyFailing, recovered };
}

export function compare(previous: Run<VpnRun>, current: VpnRun, rttChangePercent: number): Comparison {
  const rttUp: RttChange[] = [];
  const rttDown: RttChange[] = [];
  for (const [key, now] of Object.entries(current.pairs)) {
    const before = previous.pairs[key];
    if (before?.avgMs === undefined || now.avgMs === undefined || before.avgMs <= 0) continue;
    const change = {
      key,
      beforeMs: before.avgMs,
      afterMs: now.avgMs,
      percent: ((now.avgMs - before.avgMs) / before.avgMs) * 100,
    };
    if (
      Math.abs(now.avgMs - before.avgMs) < MIN_RTT_CHANGE_MS ||
      Math.abs(change.percent) <= rttChangePercent
    )
      continue;
    (change.percent > 0 ? rttUp : rttDown).push(change);
  }
  return {
    previousAt: new Date(previous.at).toISOString(),
    ...failingChanges(previous, current),
    rttUp,
    rttDown,
  };
}

/** Keeps the run and returns the one before it (none on the first run, or when that one is unreadable). */
export async function recordVpnRun(
  history: HistoryPort,
  at: number,
  run: VpnRun,
): Promise<Run<VpnRun> | undefined> {
  const previous = parseRun(vpnRunSchema, await history.last('vpn'));
  await history.record('vpn', at, run);
  return previous;
}
