import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RUN_KEYS_TTL_MS } from './runs.ts';

const POSTING = 'posting';

/**
 * A claim covers one post in flight. An attempt runs again only once BullMQ found the earlier one dead (its lock
 * lapsed), so a claim still held is a request the dead attempt may have sent; after the Web API timeout it can no
 * longer land. Only a worker killed between Slack's answer and recording the ts (a few milliseconds) leaves a
 * parent behind that its retry cannot see, and the retry then posts another.
 */
export const PARENT_CLAIM_MS = 10_000;

/**
 * How long a posted parent's ts is offered to Redis. Once Slack holds the message only this process knows its ts:
 * giving up on a Redis that is failing over would leave a parent saying "running" for ever beside the retry's
 * own. Sentinel promotes a replica within seconds (its down-after plus an election); a longer outage outlasts
 * the job's lock anyway.
 */
export const PARENT_RECORD_MS = 30_000;

/** What a parent message names besides its state: the command, who asked for it, the approvals it asked for. */
export interface ParentHead {
  commandText: string;
  users: string[];
  /** Every request the command put up for approval (one per remote for a repair of every remote). */
  requests?: string[];
}

const headKey = (prefix: string, channel: string, ts: string) => `${prefix}parent-head:${channel}:${ts}`;

/** Kept for a parent whose state changes after its run ended (a change waiting for approval). */
export async function recordParentHead(
  redis: Redis,
  prefix: string,
  channel: string,
  ts: string,
  head: ParentHead,
): Promise<void> {
  await redis.set(headKey(prefix, channel, ts), JSON.stringify(head), 'PX', RUN_KEYS_TTL_MS);
}

export async function parentHead(
  redis: Redis,
  prefix: string,
  channel: string,
  ts: string,
): Promise<ParentHead | null> {
  const raw = await redis.get(headKey(prefix, channel, ts));
  return raw ? (JSON.parse(raw) as ParentHead) : null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Longer than any one rewrite of a parent takes (a few reads and one Web API call); a dead holder's turn lapses. */
export const PARENT_TURN_MS = 10_000;

const turnKey = (prefix: string, channel: string, ts: string) => `${prefix}parent-turn:${channel}:${ts}`;

const END_TURN = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Runs `write` in its turn among the writers of one parent message (the command's end, each decision on a request
 * it made). A writer that reads what it shows inside its turn cannot overwrite a later state with an older one.
 */
export async function inParentTurn<T>(
  redis: Redis,
  prefix: string,
  channel: string,
  ts: string,
  write: () => Promise<T>,
): Promise<T> {
  const key = turnKey(prefix, channel, ts);
  const token = randomUUID();
  while (!(await redis.set(key, token, 'PX', PARENT_TURN_MS, 'NX'))) await sleep(25);
  try {
    return await write();
  } finally {
    await redis.eval(END_TURN, 1, key, token).catch(() => undefined);
  }
}

/**
 * The parent message of a run, posted once however often its job is attempted: the ts is recorded under `key`,
 * and a post is claimed before it is made, so two attempts never both post. `posted` says whether this call
 * posted it (a retry finds the parent of an earlier attempt and updates it instead).
 */
export async function ensureParent(
  redis: Redis,
  key: string,
  post: () => Promise<string>,
): Promise<{ ts: string; posted: boolean }> {
  for (;;) {
    if (await redis.set(key, POSTING, 'PX', PARENT_CLAIM_MS, 'NX')) {
      let ts: string;
      try {
        ts = await post();
      } catch (err) {
        await redis.del(key);
        throw err;
      }
      await recordPosted(redis, key, ts);
      return { ts, posted: true };
    }
    const recorded = await redis.get(key);
    if (recorded && recorded !== POSTING) return { ts: recorded, posted: false };
    // Another attempt is posting right now, or died doing so and its claim runs out.
    await sleep(250);
  }
}

/** Records a posted parent's ts, retrying through a Redis outage of up to PARENT_RECORD_MS. */
async function recordPosted(redis: Redis, key: string, ts: string): Promise<void> {
  const deadline = Date.now() + PARENT_RECORD_MS;
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    try {
      await redis.set(key, ts, 'PX', RUN_KEYS_TTL_MS);
      return;
    } catch (err) {
      if (Date.now() + wait > deadline) throw err;
      await sleep(wait);
    }
  }
}
