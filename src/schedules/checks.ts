import type { Finding } from '../mesh/health.ts';
import { runStatusCheck } from '../mesh/istio/check.ts';
import { recordStatus } from '../mesh/istio/metrics.ts';
import { runVpnCheck } from '../mesh/vpn/check.ts';
import { recordVpn } from '../mesh/vpn/metrics.ts';
import type { RunFinding, ScheduledChecks } from './report.ts';

/**
 * The `/mesh status` and `/mesh vpn` checks as scheduled posts call them: the same functions, reduced to
 * verdict, one-line summary and findings. Info findings change no verdict, so they never make a reply.
 */
const problems = (findings: readonly Finding[]): RunFinding[] =>
  findings.filter((f) => f.severity !== 'info').map(({ id, severity, text }) => ({ id, severity, text }));

export const defaultChecks: ScheduledChecks = {
  async status(ctx) {
    const report = await runStatusCheck(ctx);
    recordStatus(report);
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
};
