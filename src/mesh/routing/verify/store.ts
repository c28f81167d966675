import type { Redis } from 'ioredis';
import type { MeshConfig } from '../../../config/schema.ts';
import type { Verification } from './watch.ts';

/** The verification's record in Redis: every reading and how the window ended. The readings are jobs (src/jobs/route-verify.ts). */

interface Deps {
  redis: Redis;
  prefix: string;
}

const keyOf = (prefix: string, id: string) => `${prefix}:routing:verify:${id}`;
// Kept a week past the window, like a decided approval, for late looks at what happened.
const KEEP_MS = 7 * 86_400_000;

export async function loadVerification(deps: Deps, id: string): Promise<Verification | undefined> {
  const text = await deps.redis.get(keyOf(deps.prefix, id));
  return text ? (JSON.parse(text) as Verification) : undefined;
}

export async function saveVerification(
  deps: Deps & { config: Pick<MeshConfig, 'routing'> },
  v: Verification,
): Promise<void> {
  await deps.redis.set(
    keyOf(deps.prefix, v.id),
    JSON.stringify(v),
    'PX',
    deps.config.routing.verify.window + KEEP_MS,
  );
}
