import type { Redis } from 'ioredis';

export type RateDecision = { ok: true } | { ok: false; retryInMs: number; limit: number; perMs: number };

/**
 * A counter per user in Redis, shared by every app replica, counting commands (refused ones included) and
 * button clicks alike. The window opens at the user's first counted request and lasts `perMs` (Redis keeps
 * the time), so a burst is never split by a wall-clock boundary into two allowances. Callers bound the check
 * and let the request through when Redis does not answer: the queue is down too and the user hears that.
 */
export function createRateLimiter(redis: Redis, prefix: string, limit: number, perMs: number) {
  return async function check(user: string): Promise<RateDecision> {
    const key = `${prefix}:ratelimit:${user}`;
    const results = await redis.multi().set(key, 0, 'PX', perMs, 'NX').incr(key).pttl(key).exec();
    const count = Number(results?.[1]?.[1] ?? 0);
    if (count <= limit) return { ok: true };
    const ttl = Number(results?.[2]?.[1] ?? perMs);
    return { ok: false, retryInMs: ttl > 0 ? ttl : perMs, limit, perMs };
  };
}
