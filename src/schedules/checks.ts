import { runStatusCheck } from '../mesh/istio/check.ts';
import { renderStatus } from '../mesh/istio/render.ts';
import { runVpnCheck } from '../mesh/vpn/check.ts';
import { recordStatus, recordVpn } from '../observability/record.ts';
import type { Finding, ScheduledChecks } from './report.ts';

/**
 * The `/mesh status` and `/mesh vpn` checks as scheduled posts call them: the same functions, reduced to
 * verdict, one-line summary and findings. Info findings change no verdict, so they never make a reply.
 */
const problems = (findings: readonly Finding[]): Finding[] =>
  findings.filter((f) => f.severity !== 'info').map(({ id, severity, text }) => ({ id, severity, text }));

export const defaultChecks: ScheduledChecks = {
  async status(ctx) {
    const report = await runStatusCheck(ctx);
    recordStatus(report);
    return {
      check: 'status',
      verdict: report.health,
      summary: renderStatus(report).summary,
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
};
