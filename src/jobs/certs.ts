import { runCertsCheck } from '../mesh/certs/check.ts';
import { renderCerts } from '../slack/render/certs.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh certs [cluster]`. */
export const certsHandler: CommandHandler<'certs'> = async (command, _job, ctx) => {
  const report = await runCertsCheck(ctx, command.cluster === undefined ? {} : { cluster: command.cluster });
  ctx.log.info(
    { health: report.health, sharedRoot: report.sharedRoot, ms: Math.round(report.ms) },
    'certificates checked',
  );
  return renderCerts(report);
};
