import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/logger.ts';
import { withTimeout } from '../../queue/producer.ts';

/** The parts of a Socket Mode envelope that identify what it carries. */
export interface EnvelopeIdentity {
  envelope_id: string;
  type: string;
  body: unknown;
}

function stringField(body: unknown, key: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The names under which an envelope counts as already handled. Slack redelivers with the same `envelope_id`, but a
 * retry (`retry_attempt` > 0) may come in a new envelope, possibly on another connection or replica: the payload's
 * own id (`event_id` of an Events API event, `trigger_id` of a slash command or click) names it across envelopes.
 */
export function envelopeKeys(envelope: EnvelopeIdentity): string[] {
  const keys = [`envelope:${envelope.envelope_id}`];
  const payloadId =
    envelope.type === 'events_api'
      ? stringField(envelope.body, 'event_id')
      : stringField(envelope.body, 'trigger_id');
  if (payloadId) keys.push(`${envelope.type === 'events_api' ? 'event' : 'trigger'}:${payloadId}`);
  return keys;
}

export interface EnvelopeDedupe {
  /** Claims the keys; true when none was claimed before (the envelope must be handled), false for a redelivery. */
  claim(keys: string[]): Promise<boolean>;
}

export interface DedupeOptions {
  redis: Redis;
  prefix: string;
  log: Logger;
  /** Slack retries within minutes (immediately, after 1 and after 5 minutes); keys live a little longer. */
  ttlMs?: number;
  /** The claim runs before the ack, inside Slack's 3 s. */
  timeoutMs?: number;
}

/**
 * Redis SET NX per key, so the claim holds across app replicas. If Redis does not answer, the envelope is handled
 * (logged): dropping it would lose a command silently, while the queue it feeds is down in that case anyway.
 */
export function createEnvelopeDedupe(options: DedupeOptions): EnvelopeDedupe {
  const ttlMs = options.ttlMs ?? 15 * 60_000;
  const timeoutMs = options.timeoutMs ?? 500;
  return {
    async claim(keys) {
      const multi = options.redis.multi();
      for (const key of keys) multi.set(`${options.prefix}:socket:seen:${key}`, '1', 'PX', ttlMs, 'NX');
      try {
        const results = (await withTimeout(multi.exec(), timeoutMs)) ?? [];
        const failed = results.find(([err]) => err);
        if (failed) throw failed[0];
        return results.every(([, reply]) => reply === 'OK');
      } catch (err) {
        options.log.warn({ err, keys }, 'could not check the envelope against redeliveries; handling it');
        return true;
      }
    },
  };
}
