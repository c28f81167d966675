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

export const defaultChecks: ScheduledChecks = {
  async status(ctx) {
    const report = await runStatusCheck(ctx);
    recordStatus(report);
    await statusHistory(ctx.history, report, Date.parse(report.checkedAt)).catch((err: unknown) =>
      ctx.log.warn({ err }, 'status run not kept in history'),
    );
    return {
      check: 'status',
      verdict: report.health,
      summary: report.summary,
      findings: problems(report.findings),
    };
  },
  async vpn(ctx) {
    const report = await runVpnCheck(ctx);
    recordVpn(report);
    return {
      check: 'vpn',
      verdict: report.verdict,
      summary: report.summary,
      findings: problems(report.findings),
    };
  },
  async proxies(ctx) {
    const report = await runProxiesCheck(ctx);
    await keepProxiesRun(ctx.history, report).catch((err: unknown) =>
      ctx.log.warn({ err }, 'proxies run not kept in history'),
    );
    return {
      check: 'proxies',
      verdict: report.health,
      summary: report.summary,
      findings: problems(report.findings),
    };
  },
};
