import type { ApprovalRequest } from '../../../approvals/decide.ts';
import type { JobContext } from '../../../jobs/types.ts';
import type { Verification, WrittenObject } from './watch.ts';

/**
 * The verification's record in Redis and its readings as delayed jobs. A routing change that was written
 * queues reading 0 (the baseline); every reading queues the next, one interval later.
 */

export const VERIFY_ROUTING_ACTION = 'mesh.routing-verify';

/** Before reading 0: what was written and when. */
export interface VerificationSeed {
  id: string;
  changedAt: number;
  written: WrittenObject[];
}

const keyOf = (prefix: string, id: string) => `${prefix}:routing:verify:${id}`;
// Kept a week past the window, like a decided approval, for late looks at what happened.
const KEEP_MS = 7 * 86_400_000;

export async function loadVerification(
  ctx: Pick<JobContext, 'redis' | 'prefix'>,
  id: string,
): Promise<Verification | VerificationSeed | undefined> {
  const text = await ctx.redis.get(keyOf(ctx.prefix, id));
  return text ? (JSON.parse(text) as Verification | VerificationSeed) : undefined;
}

export async function saveVerification(
  ctx: Pick<JobContext, 'redis' | 'prefix' | 'config'>,
  v: Verification | VerificationSeed,
): Promise<void> {
  const ttl = ctx.config.routing.verify.window + KEEP_MS;
  await ctx.redis.set(keyOf(ctx.prefix, v.id), JSON.stringify(v), 'PX', ttl);
}

/** Queues reading `n` of request `id` to run `delayMs` from now; a second queueing of the same reading is a no-op. */
export async function queueReading(
  ctx: JobContext,
  target: { id: string; channel: string; messageTs: string },
  n: number,
  delayMs: number,
): Promise<void> {
  await ctx.enqueue(
    {
      type: 'action',
      action: VERIFY_ROUTING_ACTION,
      value: target.id,
      user: 'meshops',
      channel: target.channel,
      messageTs: target.messageTs,
      actionTs: `routing-verify-${target.id}-${n}`,
      requestedAt: Date.now(),
    },
    { jobId: `routing-verify-${target.id}-${n}`, delayMs: Math.max(0, delayMs) },
  );
}

/**
 * The seam after an applied routing change (and rollback): remembers what was written and queues the
 * verification. A change that wrote nothing is not watched. Never throws: the change is applied either way.
 */
export async function startVerification(
  ctx: JobContext,
  request: ApprovalRequest,
  written: WrittenObject[],
): Promise<boolean> {
  if (written.length === 0) return false;
  try {
    await saveVerification(ctx, { id: request.id, changedAt: Date.now(), written });
    await queueReading(
      ctx,
      { id: request.id, channel: request.channel, messageTs: request.threadTs ?? request.id },
      0,
      0,
    );
    return true;
  } catch (err) {
    ctx.log.warn({ err, request: request.id }, 'could not queue the verification of a routing change');
    return false;
  }
}
