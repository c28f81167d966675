import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/logger.ts';
import type { VirtualServiceSpec, VsRef } from './types.ts';

/** What an applied routing change wrote, so its verification can put back what was there, bound to what it wrote. */
export interface WrittenObject {
  ref: VsRef;
  /** The resourceVersion meshops' write produced; null when the write deleted the object. */
  resourceVersion: string | null;
  /** The spec before the change; null when the change created the object. */
  restore: VirtualServiceSpec | null;
}

export interface WrittenChange {
  /** The approval request the change was applied under. */
  id: string;
  /** When the writes were done. */
  changedAt: number;
  written: WrittenObject[];
}

interface Deps {
  redis: Redis;
  prefix: string;
  log: Logger;
}

const keyOf = (prefix: string, id: string) => `${prefix}:routing:written:${id}`;
// As long as a verification record can be asked for it (the window plus a week).
const KEEP_MS = 8 * 86_400_000;

/** Remembers what an apply wrote; never throws: the change is applied either way. */
export async function rememberWritten(deps: Deps, id: string, written: WrittenObject[]): Promise<boolean> {
  if (written.length === 0) return false;
  try {
    const record: WrittenChange = { id, changedAt: Date.now(), written };
    await deps.redis.set(keyOf(deps.prefix, id), JSON.stringify(record), 'PX', KEEP_MS);
    return true;
  } catch (err) {
    deps.log.warn({ err, request: id }, 'could not record what a routing change wrote');
    return false;
  }
}

export async function writtenBy(
  deps: Pick<Deps, 'redis' | 'prefix'>,
  id: string,
): Promise<WrittenChange | undefined> {
  const text = await deps.redis.get(keyOf(deps.prefix, id));
  return text ? (JSON.parse(text) as WrittenChange) : undefined;
}
