import type { Redis } from 'ioredis';
import type { ApprovalRequest, Progress } from '../mesh/change.ts';
import { type ApprovalState, type ApprovalStatus, TERMINAL } from './types.ts';

/**
 * Approval requests in Redis: one hash per request (`<prefix>:approval:<id>`) with the request as JSON and
 * its state. Every move between states is one Lua script, so exactly one caller wins a race.
 */

// How long a request record outlives its decision, for late clicks to be answered with what happened.
const KEEP_DECIDED_MS = 7 * 86_400_000;

/**
 * Moves a request from one state to another only if it is still in `from`, so exactly one caller wins.
 * ARGV[5] = "live" also requires now < expiresAt (a late claim expires it instead and says EXPIRED);
 * "due" requires now >= expiresAt (the expiry job never ends a request early).
 */
const TRANSITION = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'MISSING'} end
if state ~= ARGV[1] then
  return {'STATE', state, redis.call('HGET', KEYS[1], 'decidedBy') or '', redis.call('HGET', KEYS[1], 'decidedAt') or ''}
end
local expiresAt = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
local now = tonumber(ARGV[3])
if ARGV[5] == 'live' and now >= expiresAt then
  redis.call('HSET', KEYS[1], 'state', 'expired', 'decidedBy', 'meshops', 'decidedAt', ARGV[3])
  return {'EXPIRED'}
end
if ARGV[5] == 'due' and now < expiresAt then return {'EARLY', tostring(expiresAt - now)} end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'decidedBy', ARGV[4], 'decidedAt', ARGV[3], 'outcome', ARGV[6])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'claim', ARGV[7]) end
return {'OK'}
`;

/** Hands an "applying" request from the job that claimed it to another, only if that job still holds it. */
const RECLAIM = `
if redis.call('HGET', KEYS[1], 'state') ~= 'applying' then return 0 end
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'claim', ARGV[2])
return 1
`;

export type TransitionResult =
  | { ok: true }
  | { ok: false; why: 'missing' }
  | { ok: false; why: 'expired' }
  | { ok: false; why: 'early'; remainingMs: number }
  | { ok: false; why: 'state'; status: ApprovalStatus };

export interface ApprovalStore {
  /** Records a new pending request; it disappears by itself a while after it could have been decided. */
  create(request: ApprovalRequest): Promise<void>;
  /** Remembers where the approval message is, so every later update finds it. */
  setMessageTs(id: string, ts: string): Promise<void>;
  get(id: string): Promise<{ request: ApprovalRequest; status: ApprovalStatus } | undefined>;
  transition(
    id: string,
    from: ApprovalState,
    to: ApprovalState,
    /** `claim` records which job claimed it, so a re-run of that job can resume it. */
    opts: { by: string; outcome?: string; expiry?: 'live' | 'due'; claim?: string },
  ): Promise<TransitionResult>;
  /** The ids of requests now "applying" (a scan of the request records, which live a week at most). */
  applying(): Promise<string[]>;
  /** Moves an "applying" request's claim from `from` to `to`; false when another run holds or ended it. */
  reclaim(id: string, from: string, to: string): Promise<boolean>;
}

const keyOf = (prefix: string, id: string) => `${prefix}:approval:${id}`;
const globEscape = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');
const progressKey = (prefix: string, id: string) => `${prefix}:approval:${id}:progress`;

/**
 * What an apply has written so far, kept line by line as it goes ("default/reviews: resourceVersion 7 → 9"),
 * so a worker that dies mid-apply leaves a record that the next run reports and works from.
 */
/** What the store needs: the worker's connection, and the replica wait for what it writes there. */
type StoreDeps = { redis: Redis; prefix: string; replicated?(): Promise<void> };

export async function applyProgress(deps: StoreDeps, id: string): Promise<Progress> {
  const key = progressKey(deps.prefix, id);
  const earlier = await deps.redis.lrange(key, 0, -1);
  return {
    earlier,
    async record(line) {
      await deps.redis.multi().rpush(key, line).pexpire(key, KEEP_DECIDED_MS).exec();
      // The record a resumed apply works from must survive a failover as the write it records does.
      await deps.replicated?.();
    },
  };
}

/**
 * Every state the workflow acts on (a new request, a move between states, a taken-over claim) is on a
 * replica before the caller goes on, when replicas are configured: a failover right after an approval must
 * not bring back a pending request that was already being applied.
 */
export function approvalStore(deps: StoreDeps): ApprovalStore {
  const { redis, prefix } = deps;
  const replicated = async () => {
    await deps.replicated?.();
  };
  return {
    async create(request) {
      const key = keyOf(prefix, request.id);
      await redis
        .multi()
        .hset(key, { data: JSON.stringify(request), state: 'pending', expiresAt: String(request.expiresAt) })
        .pexpire(key, request.expiresAt - request.createdAt + KEEP_DECIDED_MS)
        .exec();
      await replicated();
    },
    async setMessageTs(id, ts) {
      await redis.hset(keyOf(prefix, id), 'messageTs', ts);
    },
    async get(id) {
      const h = await redis.hgetall(keyOf(prefix, id));
      if (!h.data || !h.state) return undefined;
      return {
        request: JSON.parse(h.data) as ApprovalRequest,
        status: {
          state: h.state as ApprovalState,
          ...(h.decidedBy ? { decidedBy: h.decidedBy } : {}),
          ...(h.decidedAt ? { decidedAt: Number(h.decidedAt) } : {}),
          ...(h.outcome ? { outcome: h.outcome } : {}),
          ...(h.messageTs ? { messageTs: h.messageTs } : {}),
          ...(h.claim ? { claim: h.claim } : {}),
        },
      };
    },
    async applying() {
      const base = keyOf(prefix, '');
      const ids: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${globEscape(base)}*`, 'COUNT', 500);
        cursor = next;
        // Request hashes only: their progress lists share the prefix.
        const requests = keys.map((k) => k.slice(base.length)).filter((id) => !id.includes(':'));
        const states = await Promise.all(requests.map((id) => redis.hget(keyOf(prefix, id), 'state')));
        ids.push(...requests.filter((_, i) => states[i] === 'applying'));
      } while (cursor !== '0');
      return ids;
    },
    async reclaim(id, from, to) {
      const taken = (await redis.eval(RECLAIM, 1, keyOf(prefix, id), from, to)) === 1;
      if (taken) await replicated();
      return taken;
    },
    async transition(id, from, to, opts) {
      const res = (await redis.eval(
        TRANSITION,
        1,
        keyOf(prefix, id),
        from,
        to,
        String(Date.now()),
        opts.by,
        opts.expiry ?? 'any',
        opts.outcome ?? '',
        opts.claim ?? '',
      )) as string[];
      switch (res[0]) {
        case 'OK':
          if (TERMINAL.includes(to)) await redis.pexpire(keyOf(prefix, id), KEEP_DECIDED_MS);
          await replicated();
          return { ok: true };
        case 'MISSING':
          return { ok: false, why: 'missing' };
        case 'EXPIRED':
          await replicated();
          return { ok: false, why: 'expired' };
        case 'EARLY':
          return { ok: false, why: 'early', remainingMs: Number(res[1]) };
        default:
          return {
            ok: false,
            why: 'state',
            status: {
              state: res[1] as ApprovalState,
              ...(res[2] ? { decidedBy: res[2] } : {}),
              ...(res[3] ? { decidedAt: Number(res[3]) } : {}),
            },
          };
      }
    },
  };
}
