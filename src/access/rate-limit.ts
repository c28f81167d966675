import type { Redis } from 'ioredis';

export type RateDecision = { ok: true } | { ok: false; retryInMs: number; limit: number; perMs: number };

/**
 * A fixed-window counter per user in Redis, shared by every app replica. It fails open: when Redis does not
 * answer, the queue is down too and the user hears that instead.
 */
export function createRateLimiter(redis: Redis, prefix: string, limit: number, perMs: number) {
  return async function check(user: string): Promise<RateDecision> {
    const window = Math.floor(Date.now() / perMs);
    const key = `${prefix}:ratelimit:${user}:${window}`;
    try {
      const results = await redis.multi().incr(key).pexpire(key, perMs).exec();
      const count = Number(results?.[0]?.[1] ?? 0);
      if (count <= limit) return { ok: true };
      return { ok: false, retryInMs: (window + 1) * perMs - Date.now(), limit, perMs };
    } catch {
      return { ok: true };
    }
  };
}
