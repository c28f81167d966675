import type { Redis } from 'ioredis';

/**
 * Locks on change targets (a VirtualService, a ConfigMap on a remote, …), held by an approval request while
 * it is pending or applying. A lock's value is the id of the request holding it, so "who holds it and until
 * when" is read from that request, and only the holder can release it. Every lock also has a TTL, so a
 * crashed worker can never leave a target locked forever.
 */

// All or nothing: either every target is free and all are taken, or none is and the first holder is named.
const ACQUIRE = `
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder then return {i, holder} end
end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return 0
`;

const RELEASE = `
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('DEL', key) end
end
return n
`;

const EXTEND = `
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('PEXPIRE', key, ARGV[2]) end
end
return n
`;

export type AcquireResult = { ok: true } | { ok: false; target: string; holder: string };

export interface Locks {
  /** Takes every target for `holder` for `ttlMs`, or none of them. */
  acquire(targets: readonly string[], holder: string, ttlMs: number): Promise<AcquireResult>;
  /** Releases the targets `holder` still holds; locks taken over by someone else are left alone. */
  release(targets: readonly string[], holder: string): Promise<number>;
  /** Renews the targets `holder` still holds (e.g. while the change is being applied). */
  extend(targets: readonly string[], holder: string, ttlMs: number): Promise<number>;
}

export function createLocks(redis: Redis, prefix: string): Locks {
  const keyOf = (target: string) => `${prefix}:lock:${target}`;
  return {
    async acquire(targets, holder, ttlMs) {
      if (targets.length === 0) return { ok: true };
      const res = (await redis.eval(
        ACQUIRE,
        targets.length,
        ...targets.map(keyOf),
        holder,
        Math.ceil(ttlMs),
      )) as number | [number, string];
      if (res === 0) return { ok: true };
      const [index, current] = res as [number, string];
      return { ok: false, target: targets[index - 1]!, holder: current };
    },
    async release(targets, holder) {
      if (targets.length === 0) return 0;
      return (await redis.eval(RELEASE, targets.length, ...targets.map(keyOf), holder)) as number;
    },
    async extend(targets, holder, ttlMs) {
      if (targets.length === 0) return 0;
      return (await redis.eval(
        EXTEND,
        targets.length,
        ...targets.map(keyOf),
        holder,
        Math.ceil(ttlMs),
      )) as number;
    },
  };
}
