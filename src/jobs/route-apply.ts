import { approvalsFor } from '../approvals/request.ts';
import { presetTargets } from '../mesh/routing/plan.ts';
import { findPreset, presetsFor } from '../mesh/routing/presets.ts';
import { requestRoutingChange } from '../mesh/routing/request.ts';
import { tunnelProbe } from '../mesh/routing/tunnel.ts';
import { approvalView } from '../slack/render/approval.ts';
import { renderNotRequested, renderRoutingOutcome } from '../slack/render/routing.ts';
import type { CommandHandler } from './types.ts';
import { requesterOf } from './types.ts';

/** `/mesh route apply <preset>` (operators): plans, pre-flights and asks for approval; never writes itself. */
export const routeApplyHandler: CommandHandler<'route-apply'> = async (command, job, ctx) => {
  const title = `Route apply ${command.preset}`;
  const preset = findPreset(presetsFor(ctx.config.routing), command.preset);
  if (typeof preset === 'string') return renderNotRequested(title, preset);
  const outcome = await requestRoutingChange(
    { ...ctx, approvals: approvalsFor(ctx, approvalView) },
    requesterOf(job),
    { label: preset.name, title, targets: presetTargets(preset) },
    tunnelProbe(ctx),
  );
  return renderRoutingOutcome(outcome);
};
