import type { Redis } from 'ioredis';
import type { MeshConfig } from '../config/schema.ts';
import type { HistoryKind, HistoryPort, StoredRun } from '../mesh/history.ts';

/**
 * Check history in Redis: one sorted set per check kind (`<prefix>:history:<kind>`), scored by the run's
 * time, each member `{at, data}` as JSON with the run's snapshot as `data`. Every write trims by age and by count in the same
 * transaction, so the set never holds more than `history.maxEntries` runs nor any older than `history.maxAge`.
 */

export const historyKey = (prefix: string, kind: HistoryKind) => `${prefix}:history:${kind}`;

function runsOf(reply: readonly string[]): StoredRun[] {
  const out: StoredRun[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    try {
      const member = JSON.parse(reply[i]!) as { data?: unknown };
      out.push({ at: Number(reply[i + 1]), data: member?.data });
    } catch {
      // Not JSON (written by hand or cut short): the run is skipped, the others still count.
    }
  }
  return out;
}

export function historyStore(deps: {
  redis: Redis;
  prefix: string;
  config: Pick<MeshConfig, 'history'>;
  now?: () => number;
}): HistoryPort {
  const { redis, prefix } = deps;
  const { maxEntries, maxAge } = deps.config.history;
  const now = deps.now ?? Date.now;
  return {
    async record(kind, at, data) {
      const key = historyKey(prefix, kind);
      const results = await redis
        .multi()
        // The time in the member too: two runs that found the same must stay two members, not one re-scored.
        .zadd(key, at, JSON.stringify({ at, data }))
        .zremrangebyscore(key, '-inf', `(${now() - maxAge}`)
        .zremrangebyrank(key, 0, -(maxEntries + 1))
        // A kind no longer checked disappears on its own.
        .pexpire(key, maxAge)
        .exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
    },
    async since(kind, sinceMs) {
      return runsOf(await redis.zrangebyscore(historyKey(prefix, kind), sinceMs, '+inf', 'WITHSCORES'));
    },
    async first(kind, sinceMs) {
      const reply = await redis.zrangebyscore(
        historyKey(prefix, kind),
        sinceMs,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        0,
        1,
      );
      return runsOf(reply)[0];
    },
    async last(kind, untilMs) {
      const until = untilMs === undefined ? '+inf' : untilMs;
      const reply = await redis.zrevrangebyscore(
        historyKey(prefix, kind),
        until,
        '-inf',
        'WITHSCORES',
        'LIMIT',
        0,
        1,
      );
      return runsOf(reply)[0];
    },
  };
}
