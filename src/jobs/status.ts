import { runStatusCheck } from '../mesh/istio/check.ts';
import { recordStatus } from '../mesh/istio/metrics.ts';
import { renderStatus } from '../slack/render/status.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh status [cluster]`: the check and its rendering are separate so scheduled posts reuse both. */
export const statusHandler: CommandHandler<'status'> = async (command, _job, ctx) => {
  const report = await runStatusCheck(ctx, command.cluster === undefined ? {} : { cluster: command.cluster });
  recordStatus(report);
  ctx.log.info(
    { health: report.health, top: report.top, findings: report.findings.length, ms: Math.round(report.ms) },
    'status checked',
  );
  return renderStatus(report);
};
