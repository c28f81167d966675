import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Comparison, ProbeResult, ProbeStatus, RttChange } from './report.ts';

/**
 * The previous matrix run, kept in Redis as the few numbers the next run compares with: per pair, its
 * status and average RTT. Pairs are keyed `from>to/label`, so a restarted pod is the same pair.
 */

const snapshotSchema = z.object({
  checkedAt: z.string(),
  pairs: z.record(
    z.string(),
    z.object({
      status: z.enum(['ok', 'slow', 'loss', 'lost', 'error', 'unparsed']),
      avgMs: z.number().optional(),
    }),
  ),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const historyKey = (prefix: string) => `${prefix}:vpn:last`;

export function snapshotOf(checkedAt: string, probes: readonly ProbeResult[]): Snapshot {
  const pairs: Snapshot['pairs'] = {};
  for (const p of probes) {
    const avg = p.outcome.kind === 'stats' ? p.outcome.rtt?.avg : undefined;
    pairs[p.key] = { status: p.status, ...(avg !== undefined ? { avgMs: avg } : {}) };
  }
  return { checkedAt, pairs };
}

const FAILING: ReadonlySet<ProbeStatus> = new Set(['lost', 'loss', 'error']);
// Sub-millisecond round trips jitter by more than 50% without meaning anything.
const MIN_RTT_CHANGE_MS = 1;

export function compare(previous: Snapshot, current: Snapshot, rttChangePercent: number): Comparison {
  const newlyFailing: string[] = [];
  const recovered: string[] = [];
  const rttUp: RttChange[] = [];
  const rttDown: RttChange[] = [];
  for (const [key, now] of Object.entries(current.pairs)) {
    const before = previous.pairs[key];
    if (!before) continue;
    if (FAILING.has(now.status) && !FAILING.has(before.status)) newlyFailing.push(key);
    if (!FAILING.has(now.status) && FAILING.has(before.status)) recovered.push(key);
    if (before.avgMs === undefined || now.avgMs === undefined || before.avgMs <= 0) continue;
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
  return { previousAt: previous.checkedAt, newlyFailing, recovered, rttUp, rttDown };
}

/** Reads the previous run; a missing or unreadable entry (older format) means "no comparison". */
export async function loadSnapshot(redis: Redis, prefix: string): Promise<Snapshot | undefined> {
  const text = await redis.get(historyKey(prefix));
  if (text === null) return undefined;
  try {
    const parsed = snapshotSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function saveSnapshot(redis: Redis, prefix: string, snapshot: Snapshot): Promise<void> {
  await redis.set(historyKey(prefix), JSON.stringify(snapshot));
}
