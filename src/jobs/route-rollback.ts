import { approvalsFor } from '../approvals/request.ts';
import { lastSnapshot } from '../mesh/routing/change.ts';
import { requestRoutingChange } from '../mesh/routing/request.ts';
import { tunnelProbe } from '../mesh/routing/tunnel.ts';
import { approvalView } from '../slack/render/approval.ts';
import { renderNotRequested, renderRoutingOutcome } from '../slack/render/routing.ts';
import type { CommandHandler } from './types.ts';
import { requesterOf } from './types.ts';

/**
 * `/mesh route rollback` (operators): asks to restore the specs saved before the last applied change,
 * through the same approval. Applying a rollback saves what it replaced, so a second rollback re-applies.
 */
export const routeRollbackHandler: CommandHandler<'route-rollback'> = async (_command, job, ctx) => {
  const snapshot = await lastSnapshot(ctx);
  if (!snapshot)
    return renderNotRequested(
      'Route rollback',
      'nothing to roll back: no routing change has been applied through meshops within audit.retention',
      [],
      'info',
    );
  const title = `Route rollback (undo ${snapshot.undoes})`;
  if (snapshot.cluster !== ctx.clusters.primary.name)
    return renderNotRequested(
      title,
      `the saved routes are from ${snapshot.cluster}, but the primary is now ${ctx.clusters.primary.name}`,
    );
  const outcome = await requestRoutingChange(
    { ...ctx, approvals: approvalsFor(ctx, approvalView) },
    requesterOf(job),
    { label: 'rollback', title, targets: snapshot.objects },
    tunnelProbe(ctx),
  );
  return renderRoutingOutcome(outcome);
};
