import type { Redis } from 'ioredis';
import type { MeshConfig } from '../../config/schema.ts';
import type { Logger } from '../../observability/logger.ts';
import { planRemote } from './live.ts';
import { nextStep, type RequestDeps, requestNext, SCHEDULED_REQUESTER } from './request.ts';

/**
 * `drift.autoRepair: propose`: a scheduled health run that finds drift puts the repair up for approval in
 * its channel instead of only reporting it. A cron run's request is meshops' own; a run someone started with
 * `/mesh schedule run` is that person's request, so they cannot approve it themselves.
 */

/** Status finding ids are `<cluster>/drift/<component>` while a remote's addresses drift. */
const DRIFT_ID = /^([^/]+)\/drift\//;

/** What proposing scheduled repairs uses: planning and requesting, and Redis to propose each plan once. */
export interface ProposeDeps extends RequestDeps {
  config: RequestDeps['config'] & Pick<MeshConfig, 'drift' | 'access'>;
  redis: Redis;
  prefix: string;
  log: Logger;
}

export function remotesWithDrift(findingIds: readonly string[], remotes: readonly string[]): string[] {
  const found = new Set(findingIds.flatMap((id) => DRIFT_ID.exec(id)?.[1] ?? []));
  return remotes.filter((r) => found.has(r));
}

/**
 * Proposes the repair of every remote the run found drifted, once per plan: a later run finding the same
 * drift while that plan could still be approved (`access.approvalTtl`) proposes nothing new. Never throws:
 * the health post has been made, and a failed proposal is only logged.
 */
export async function proposeScheduledRepairs(
  ctx: ProposeDeps,
  post: { channel: string; ts: string },
  statusFindingIds: readonly string[],
  /** Who ran the schedule now (`/mesh schedule run`) and whether they are an operator; absent for a cron run. */
  runBy?: { user: string; operator: boolean },
): Promise<{ notProposed: string[] }> {
  const none = { notProposed: [] };
  if (ctx.config.drift.autoRepair !== 'propose') return none;
  const remotes = remotesWithDrift(
    statusFindingIds,
    ctx.clusters.remotes.map((r) => r.name),
  );
  if (remotes.length === 0) return none;
  // A run started by a person is their request: only an operator may cause one, as with /mesh repair drift.
  if (runBy && !runBy.operator) {
    ctx.log.info(
      { remotes, runBy: runBy.user },
      'scheduled drift repair not proposed: run by a non-operator',
    );
    return { notProposed: remotes };
  }
  for (const remote of remotes) {
    try {
      const planned = await planRemote(ctx, remote);
      if (!planned.ok) {
        ctx.log.warn({ remote, reason: planned.reason }, 'scheduled drift repair not proposed');
        continue;
      }
      const next = nextStep(planned);
      if (!next) continue;
      const key = `${ctx.prefix}:repair:proposed:${remote}:${next.hash}`;
      const first = await ctx.redis.set(key, '1', 'PX', ctx.config.access.approvalTtl, 'NX');
      if (first !== 'OK') continue;
      const outcome = await requestNext(
        ctx,
        { requester: runBy?.user ?? SCHEDULED_REQUESTER, channel: post.channel, threadTs: post.ts },
        planned,
      );
      ctx.log.info({ remote, outcome: outcome.kind }, 'scheduled drift repair proposed');
    } catch (err) {
      ctx.log.warn({ err, remote }, 'scheduled drift repair could not be proposed');
    }
  }
  return none;
}
