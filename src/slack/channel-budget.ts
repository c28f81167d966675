import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../observability/logger.ts';
import { withTimeout } from '../queue/producer.ts';

/**
 * Slack's budget for `chat.postMessage` in one channel ("1 message per second to a specific channel … generous
 * burst behavior", docs.slack.dev/reference/methods/chat.postMessage), kept in Redis so every app and worker
 * replica spends from the same one.
 */
export interface ChannelBudget {
  /** Resolves when a message may be posted to `channel` now; a quiet channel resolves at once. */
  take(channel: string): Promise<void>;
  /** Spends the channel's budget for `ms`: Slack answered 429 with Retry-After, for every replica to honour. */
  pause(channel: string, ms: number): Promise<void>;
}

/** Messages a quiet channel gets at once (a parent and its first replies), then one per second on average. */
export const CHANNEL_BURST = 3;

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
 * A fixed window of `burst` messages per `burst` seconds (rate-limiter-flexible): one per second on average, the
 * whole burst at once for a quiet channel, and at most 2 × `burst` within any short interval (two windows' edges),
 * which stays within a token bucket of that size refilled at 1/s. Waiters retry when the window ends.
 */
export function createChannelBudget(options: ChannelBudgetOptions): ChannelBudget {
  const burst = options.burst ?? CHANNEL_BURST;
  const timeoutMs = options.timeoutMs ?? 500;
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: `${options.prefix}:slack:channel`,
    points: burst,
    duration: burst,
  });
  return {
    async take(channel) {
      for (;;) {
        try {
          await withTimeout(limiter.consume(channel), timeoutMs);
          return;
        } catch (err) {
          if (!(err instanceof RateLimiterRes)) {
            options.log.warn({ err, channel }, 'channel budget unavailable (Redis); posting unpaced');
            return;
          }
          await sleep(Math.max(10, err.msBeforeNext));
        }
      }
    },
    async pause(channel, ms) {
      await withTimeout(limiter.block(channel, Math.max(1, Math.ceil(ms / 1000))), timeoutMs).catch(
        (err: unknown) => options.log.warn({ err, channel }, 'could not record a 429 in the channel budget'),
      );
    },
  };
}
