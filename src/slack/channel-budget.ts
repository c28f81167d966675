import type { Redis } from 'ioredis';
import { BurstyRateLimiter, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../observability/logger.ts';
import { withTimeout } from '../queue/producer.ts';

/**
 * Slack's budget for `chat.postMessage` in one channel ("1 message per second to a specific channel … generous
 * burst behavior", docs.slack.dev/reference/methods/chat.postMessage), kept in Redis so every app and worker
 * replica spends from the same one.
 */
export interface ChannelBudget {
  /**
   * Resolves when a message may be posted to `channel` now, with how long it was held (ms); a quiet channel
   * resolves at once.
   */
  take(channel: string): Promise<number>;
  /** Spends the channel's budget for `ms`: Slack answered 429 with Retry-After, for every replica to honour. */
  pause(channel: string, ms: number): Promise<void>;
}

/** Messages a quiet channel gets at once (a parent and its first replies), then one per second. */
export const CHANNEL_BURST = 3;
/** The burst's extra messages come back after this long: a flood averages 1/s plus 2 a minute. */
const BURST_REFILL_S = 60;

export interface ChannelBudgetOptions {
  redis: Redis;
  prefix: string;
  log: Logger;
  burst?: number;
  /** Redis must answer within this, or the post goes ahead unpaced (Slack's 429s still apply). */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One message a second per channel, plus `burst - 1` extra a minute for bursts (rate-limiter-flexible's
 * BurstyRateLimiter): a quiet channel gets its parent and first replies at once, a busy one waits at most
 * about a second for its next message (a fixed window of 3 per 3 s held it up to 3 s), and a flood stays
 * at Slack's "1 per second" plus 2 a minute. Waiters retry when the limiter says the next message may go.
 */
export function createChannelBudget(options: ChannelBudgetOptions): ChannelBudget {
  const burst = options.burst ?? CHANNEL_BURST;
  const timeoutMs = options.timeoutMs ?? 500;
  const keyPrefix = `${options.prefix}:slack:channel`;
  const perSecond = new RateLimiterRedis({ storeClient: options.redis, keyPrefix, points: 1, duration: 1 });
  const extra = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: `${keyPrefix}:burst`,
    points: Math.max(0, burst - 1),
    duration: BURST_REFILL_S,
  });
  const limiter = new BurstyRateLimiter(perSecond, extra);
  return {
    async take(channel) {
      let held = 0;
      for (;;) {
        try {
          await withTimeout(limiter.consume(channel), timeoutMs);
          return held;
        } catch (err) {
          if (!(err instanceof RateLimiterRes)) {
            options.log.warn({ err, channel }, 'channel budget unavailable (Redis); posting unpaced');
            return held;
          }
          const wait = Math.max(10, err.msBeforeNext);
          held += wait;
          await sleep(wait);
        }
      }
    },
    async pause(channel, ms) {
      // Both buckets: a burst must not slip through while Slack has the channel on hold.
      const seconds = Math.max(1, Math.ceil(ms / 1000));
      await withTimeout(
        Promise.all([perSecond.block(channel, seconds), extra.block(channel, seconds)]),
        timeoutMs,
      ).catch((err: unknown) =>
        options.log.warn({ err, channel }, 'could not record a 429 in the channel budget'),
      );
    },
  };
}
