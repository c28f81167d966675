import type { RemoteOutcome } from '../mesh/repair/describe.ts';
import { proposeRepair } from '../mesh/repair/request.ts';
import { renderRepairReply } from '../slack/render/repair.ts';
import type { CommandHandler } from './types.ts';

/**
 * `/mesh repair drift [remote]` (operators): plans each remote (or the one named) from the live state and
 * puts what it needs up for approval; never writes itself.
 */
export const repairDriftHandler: CommandHandler<'repair-drift'> = async (command, job, ctx) => {
  const remotes = command.remote === undefined ? ctx.clusters.remotes.map((r) => r.name) : [command.remote];
  const outcomes: RemoteOutcome[] = [];
  // One remote after the other: each may post its own approval message, in a stable order.
  for (const remote of remotes)
    outcomes.push(
      await proposeRepair(ctx, { requester: job.user, channel: job.channel, threadTs: job.parentTs }, remote),
    );
  return renderRepairReply(outcomes);
};
