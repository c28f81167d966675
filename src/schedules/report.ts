import { type Finding, type Health, worstHealth } from '../mesh/health.ts';
import type { HistoryPort } from '../mesh/history.ts';
import type { StatusCheckDeps } from '../mesh/istio/check.ts';
import type { ProxiesCheckDeps } from '../mesh/proxies/check.ts';
import type { VpnDeps } from '../mesh/vpn/check.ts';

export type CheckName = 'status' | 'vpn' | 'proxies';

/** A finding as a run keeps it: its id compares runs, its severity and text make the post. */
export type RunFinding = Pick<Finding, 'id' | 'severity' | 'text'>;

/** What a scheduled post needs from a check: plain, JSON-serializable data (it is kept in Redis). */
export interface CheckReport {
  check: CheckName;
  verdict: Health;
  summary: string;
  findings: RunFinding[];
}

/** What the scheduled checks use: what `/mesh status`, `/mesh vpn` and `/mesh proxies` use, and their history. */
export type CheckDeps = StatusCheckDeps & VpnDeps & ProxiesCheckDeps & { history: HistoryPort };

export type ScheduledCheck = (deps: CheckDeps) => Promise<CheckReport>;
export type ScheduledChecks = Record<CheckName, ScheduledCheck>;

/** A run's combined outcome. Finding ids are namespaced by check so the two checks never collide. */
export interface RunOutcome {
  verdict: Health;
  reports: CheckReport[];
  findings: RunFinding[];
}

export function combine(reports: readonly CheckReport[]): RunOutcome {
  return {
    verdict: worstHealth(reports.map((r) => r.verdict)),
    reports: [...reports],
    findings: reports.flatMap((r) => r.findings.map((f) => ({ ...f, id: `${r.check}:${f.id}` }))),
  };
}

/** A check that throws still yields a report: the post says it could not look, and the schedule goes on. */
export function failedReport(check: CheckName, reason: string): CheckReport {
  return {
    check,
    verdict: 'failed',
    summary: `the check could not run: ${reason}`,
    findings: [{ id: 'check-failed', severity: 'critical', text: `${check} check could not run: ${reason}` }],
  };
}
