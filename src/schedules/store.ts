import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { PreviousRun } from './transition.ts';

/**
 * Everything a schedule keeps in Redis, under `<prefix>:schedules:<name>:…`. Values are parsed on the way
 * out, so a key written by another version reads as absent instead of breaking a run.
 */

const verdict = z.enum(['healthy', 'degraded', 'down', 'failed']);
const finding = z.object({
  id: z.string(),
  severity: z.enum(['critical', 'warning', 'info']),
  text: z.string(),
});
const lastRunSchema = z.object({
  verdict,
  at: z.number(),
  findings: z.array(finding),
  summary: z.string(),
});
const pausedSchema = z.object({ by: z.string(), at: z.number() });
/** The latest failed post: its Slack error code, and how many deliveries of the same slot have failed so far. */
const errorSchema = z.object({ code: z.string(), at: z.number(), attempt: z.number(), slot: z.string() });

/** The previous run, as `compare` reads it, plus its one-line summary for `schedule list`. */
export type LastRun = z.infer<typeof lastRunSchema> & PreviousRun;
export type PausedState = z.infer<typeof pausedSchema>;
export type PostingError = z.infer<typeof errorSchema>;

/** What has been done for one run slot, so a redelivered or retried job does not post it again. */
export interface SlotProgress {
  post?: string;
  reply?: string;
  done: boolean;
}

const DAY_S = 86_400;
/** Long enough for any stalled or retried job of a slot to come back, short enough to stay small. */
const SLOT_TTL_S = 2 * DAY_S;
/** A digest is edited only on its own day; keep the ts a little past midnight in every zone. */
const DIGEST_TTL_S = 2 * DAY_S;
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

function parsed<T>(schema: z.ZodType<T>, raw: string | null): T | undefined {
  if (raw === null) return undefined;
  try {
    const result = schema.safeParse(JSON.parse(raw));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

export class LockTimeoutError extends Error {
  constructor(name: string) {
    super(`another run of schedule "${name}" is still going`);
    this.name = 'LockTimeoutError';
  }
}

export interface ScheduleStore {
  paused(name: string): Promise<PausedState | undefined>;
  /** Returns false when it was already paused (nothing changes). */
  pause(name: string, by: string, at: number): Promise<boolean>;
  /** Returns false when it was not paused. */
  resume(name: string): Promise<boolean>;
  lastRun(name: string): Promise<LastRun | undefined>;
  postingError(name: string): Promise<PostingError | undefined>;
  recordPostingError(name: string, error: PostingError): Promise<void>;
  slot(name: string, slot: string): Promise<SlotProgress>;
  markSlot(name: string, slot: string, field: 'post' | 'reply', ts: string): Promise<void>;
  digest(
    name: string,
    channel: string,
    day: string,
  ): Promise<{ ts: string; runs: number; changes: number } | undefined>;
  /** Remembers the day's parent before anything else is posted under it, so a retry edits instead of posting anew. */
  startDigest(name: string, channel: string, day: string, ts: string): Promise<void>;
  /** Saves the run as "previous", counts it in the day's digest, and marks its slot done: one transaction. */
  finishRun(
    name: string,
    slot: string,
    run: LastRun,
    digest?: { channel: string; day: string; changed: boolean },
  ): Promise<void>;
  /** Serializes runs of one schedule (they share its previous state and its digest). */
  withLock<T>(name: string, ttlMs: number, signal: AbortSignal, work: () => Promise<T>): Promise<T>;
}

export function scheduleStore(redis: Redis, prefix: string): ScheduleStore {
  const key = (name: string, ...rest: string[]) => [prefix, 'schedules', name, ...rest].join(':');

  return {
    async paused(name) {
      return parsed(pausedSchema, await redis.get(key(name, 'paused')));
    },
    async pause(name, by, at) {
      return (await redis.set(key(name, 'paused'), JSON.stringify({ by, at }), 'NX')) === 'OK';
    },
    async resume(name) {
      return (await redis.del(key(name, 'paused'))) > 0;
    },
    async lastRun(name) {
      return parsed(lastRunSchema, await redis.get(key(name, 'last')));
    },
    async postingError(name) {
      return parsed(errorSchema, await redis.get(key(name, 'error')));
    },
    async recordPostingError(name, error) {
      await redis.set(key(name, 'error'), JSON.stringify(error));
    },
    async slot(name, slot) {
      const h = await redis.hgetall(key(name, 'slot', slot));
      return {
        ...(h.post ? { post: h.post } : {}),
        ...(h.reply ? { reply: h.reply } : {}),
        done: h.done === '1',
      };
    },
    async markSlot(name, slot, field, ts) {
      await redis
        .multi()
        .hset(key(name, 'slot', slot), field, ts)
        .expire(key(name, 'slot', slot), SLOT_TTL_S)
        .exec();
    },
    async digest(name, channel, day) {
      const h = await redis.hgetall(key(name, 'digest', channel, day));
      if (!h.ts) return undefined;
      return { ts: h.ts, runs: Number(h.runs ?? 0), changes: Number(h.changes ?? 0) };
    },
    async startDigest(name, channel, day, ts) {
      await redis
        .multi()
        .hset(key(name, 'digest', channel, day), 'ts', ts)
        .expire(key(name, 'digest', channel, day), DIGEST_TTL_S)
        .exec();
    },
    async finishRun(name, slot, run, digest) {
      const tx = redis
        .multi()
        .set(key(name, 'last'), JSON.stringify(run))
        .hset(key(name, 'slot', slot), 'done', '1')
        .expire(key(name, 'slot', slot), SLOT_TTL_S);
      if (digest) {
        const d = key(name, 'digest', digest.channel, digest.day);
        tx.hincrby(d, 'runs', 1);
        if (digest.changed) tx.hincrby(d, 'changes', 1);
      }
      const results = await tx.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
    },
    async withLock(name, ttlMs, signal, work) {
      const token = randomUUID();
      const lock = key(name, 'lock');
      while ((await redis.set(lock, token, 'PX', ttlMs, 'NX')) !== 'OK') {
        if (signal.aborted) throw new LockTimeoutError(name);
        await new Promise((r) => setTimeout(r, 100));
      }
      try {
        return await work();
      } finally {
        await redis.eval(RELEASE, 1, lock, token).catch(() => {});
      }
    },
  };
}
