import type { Redis } from 'ioredis';
import { withTimeout } from '../queue/producer.ts';

export type RateDecision = { ok: true } | { ok: false; retryInMs: number; limit: number; perMs: number };

/**
 * A fixed-window counter per user in Redis, shared by every app replica, counting commands (refused ones
 * included) and button clicks alike. It fails open: when Redis does not answer, the queue is down too and the
 * user hears that instead.
 */
// The check runs before a command's ack, so a Redis that does not answer may cost only this much of Slack's 3 s.
const CHECK_TIMEOUT_MS = 300;

export function createRateLimiter(redis: Redis, prefix: string, limit: number, perMs: number) {
  return async function check(user: string): Promise<RateDecision> {
    const window = Math.floor(Date.now() / perMs);
    const key = `${prefix}:ratelimit:${user}:${window}`;
    try {
      const results = await withTimeout(redis.multi().incr(key).pexpire(key, perMs).exec(), CHECK_TIMEOUT_MS);
      const count = Number(results?.[0]?.[1] ?? 0);
      if (count <= limit) return { ok: true };
      return { ok: false, retryInMs: (window + 1) * perMs - Date.now(), limit, perMs };
    } catch {
      return { ok: true };
    }
  };
}
