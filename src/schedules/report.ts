import type { JobContext, Verdict } from '../jobs/types.ts';

export type CheckName = 'status' | 'vpn';

/** One problem a check found. The id stays the same while the problem lasts, so runs can be compared. */
export interface Finding {
  id: string;
  severity: 'critical' | 'warning' | 'info';
  text: string;
}

/** What a scheduled post needs from a check: plain, JSON-serializable data (it is kept in Redis). */
export interface CheckReport {
  check: CheckName;
  verdict: Verdict;
  summary: string;
  findings: Finding[];
}

/** The status and VPN checks, as the scheduler calls them (adapters in checks.ts). */
export type ScheduledCheck = (ctx: JobContext) => Promise<CheckReport>;
export type ScheduledChecks = Record<CheckName, ScheduledCheck>;

/** How bad a verdict is; "failed" (we could not look) sits between degraded and down. */
const RANK: Record<Verdict, number> = { healthy: 0, info: 0, degraded: 1, failed: 2, down: 3 };

export function rank(verdict: Verdict): number {
  return RANK[verdict];
}

export function worst(verdicts: readonly Verdict[]): Verdict {
  return verdicts.reduce<Verdict>((acc, v) => (RANK[v] > RANK[acc] ? v : acc), 'healthy');
}

/** A run's combined outcome. Finding ids are namespaced by check so the two checks never collide. */
export interface RunOutcome {
  verdict: Verdict;
  reports: CheckReport[];
  findings: Finding[];
}

export function combine(reports: readonly CheckReport[]): RunOutcome {
  return {
    verdict: worst(reports.map((r) => r.verdict)),
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
