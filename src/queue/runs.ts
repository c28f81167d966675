import { createHash } from 'node:crypto';
import type { Command } from './jobs.ts';
import { QUEUE_NAME } from './jobs.ts';

/**
 * Redis keys of one command run, shared by the app (which admits commands) and the worker (which answers them).
 * A run is one BullMQ job; identical read commands in one channel join it while it is queued or running.
 */

/** How long a run's own keys (requesters, parent ts) outlive it: as long as BullMQ keeps a failed job. */
export const RUN_KEYS_TTL_MS = 7 * 24 * 3600_000;

/** A group waiting this long for its first job to exist is given up (the app that claimed it died mid-write). */
export const GROUP_PENDING_MS = 2000;

/** Same command, same arguments, same channel: the group's key. Arguments are hashed in a fixed key order. */
export function groupKey(prefix: string, channel: string, command: Command): string {
  const canonical = JSON.stringify(Object.entries(command).sort(([a], [b]) => a.localeCompare(b)));
  return `${prefix}:run:group:${channel}:${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}`;
}

export const runKey = (prefix: string, jobId: string, part: 'requesters' | 'parent' | 'abandoned') =>
  `${prefix}:run:${jobId}:${part}`;

/** BullMQ's hash of a job, which holds `finishedOn` once the job completed or failed for good. */
export const bullJobKey = (prefix: string, jobId: string) => `${prefix}:${QUEUE_NAME}:${jobId}`;

/**
 * Joins the group's current run when it is queued or running, otherwise makes `ARGV[1]` its run. Returns
 * `{'joined', id, parent ts or '', earlier requesters…}`, `{'pending', id}` (a run claimed but not yet queued) or `{'lead', id}`.
 * KEYS: group. ARGV: new job id, user, prefix, queue name, pending ms, ttl ms.
 */
export const JOIN_OR_LEAD = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local run = function(id, part) return ARGV[3] .. ':run:' .. id .. ':' .. part end
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, '|', 1, true)
  local id = string.sub(current, 1, sep - 1)
  local claimedAt = tonumber(string.sub(current, sep + 1))
  local job = ARGV[3] .. ':' .. ARGV[4] .. ':' .. id
  if redis.call('EXISTS', job) == 1 then
    if redis.call('HEXISTS', job, 'finishedOn') == 0 and redis.call('EXISTS', run(id, 'abandoned')) == 0 then
      local earlier = redis.call('LRANGE', run(id, 'requesters'), 0, -1)
      redis.call('RPUSH', run(id, 'requesters'), ARGV[2])
      local parent = redis.call('GET', run(id, 'parent'))
      if not parent or parent == 'posting' then parent = '' end
      return {'joined', id, parent, unpack(earlier)}
    end
  elseif nowMs - claimedAt < tonumber(ARGV[5]) then
    return {'pending', id}
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. nowMs, 'PX', ARGV[6])
redis.call('DEL', run(ARGV[1], 'requesters'))
redis.call('RPUSH', run(ARGV[1], 'requesters'), ARGV[2])
redis.call('PEXPIRE', run(ARGV[1], 'requesters'), ARGV[6])
return {'lead', ARGV[1]}
`;

/**
 * Ends the group of a finished run, so later commands start a fresh run, and returns everyone who asked for it.
 * KEYS: group, requesters. ARGV: job id.
 */
export const CLOSE_GROUP = `
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  redis.call('DEL', KEYS[1])
end
return redis.call('LRANGE', KEYS[2], 0, -1)
`;
