import type { Finding } from '../mesh/health.ts';
import { runStatusCheck } from '../mesh/istio/check.ts';
import { recordStatus } from '../mesh/istio/metrics.ts';
import { runProxiesCheck } from '../mesh/proxies/check.ts';
import { keepProxiesRun } from '../mesh/proxies/history.ts';
import { statusHistory } from '../mesh/timeline/changes.ts';
import { runVpnCheck } from '../mesh/vpn/check.ts';
import { recordVpn } from '../mesh/vpn/metrics.ts';
import type { RunFinding, ScheduledChecks } from './report.ts';

/**
 * The `/mesh status`, `/mesh vpn` and `/mesh proxies` checks as scheduled posts call them: the same
 * functions, kept in history the same way, reduced to verdict, one-line summary and findings. Info findings
 * change no verdict, so they never make a reply.
 */
const problems = (findings: readonly Finding[]): RunFinding[] =>
  findings.filter((f) => f.severity !== 'info').map(({ id, severity, text }) => ({ id, severity, text }));

type Ctx = Parameters<ScheduledChecks['status']>[0];
type Outcome = Awaited<ReturnType<ScheduledChecks['status']>>;

/** A history that cannot be written costs the next comparison, not this run. */
const keep = (ctx: Ctx, check: Outcome['check'], write: Promise<unknown>) =>
  write.catch((err: unknown) => ctx.log.warn({ err }, `${check} run not kept in history`));

const outcome = (
  check: Outcome['check'],
  verdict: Outcome['verdict'],
  report: { summary: string; findings: readonly Finding[] },
): Outcome => ({ check, verdict, summary: report.summary, findings: problems(report.findings) });

export const defaultChecks: ScheduledChecks = {
  async status(ctx) {
    const report = await runStatusCheck(ctx);
    recordStatus(report);
    await keep(ctx, 'status', statusHistory(ctx.history, report, Date.parse(report.checkedAt)));
    return outcome('status', report.health, report);
  },
  async vpn(ctx) {
    const report = await runVpnCheck(ctx);
    recordVpn(report);
    return outcome('vpn', report.verdict, report);
  },
  async proxies(ctx) {
    const report = await runProxiesCheck(ctx);
    await keep(ctx, 'proxies', keepProxiesRun(ctx.history, report));
    return outcome('proxies', report.health, report);
  },
};
