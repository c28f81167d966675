import { runProxiesCheck } from '../mesh/proxies/check.ts';
import { keepProxiesRun } from '../mesh/proxies/history.ts';
import { renderProxies } from '../slack/render/proxies.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh proxies [cluster]`. */
export const proxiesHandler: CommandHandler<'proxies'> = async (command, _job, ctx) => {
  const report = await runProxiesCheck(
    ctx,
    command.cluster === undefined ? {} : { cluster: command.cluster },
  );
  ctx.log.info(
    { health: report.health, counts: report.counts, ms: Math.round(report.ms) },
    'proxies checked',
  );
  await keepProxiesRun(ctx.history, report).catch((err: unknown) =>
    ctx.log.warn({ err }, 'proxies run not kept in history'),
  );
  return renderProxies(report);
};
