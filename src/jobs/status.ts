import { runStatusCheck } from '../mesh/istio/check.ts';
import { recordStatus } from '../mesh/istio/metrics.ts';
import { statusHistory } from '../mesh/timeline/changes.ts';
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
  // History that cannot be read or kept costs the "what changed" lines, never the answer.
  const changes = await statusHistory(ctx.history, report, Date.parse(report.checkedAt)).catch(
    (err: unknown) => {
      ctx.log.warn({ err }, 'status history not read or kept');
      return undefined;
    },
  );
  return renderStatus(report, changes);
};
