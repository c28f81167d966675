import { plural } from '../../chat/mrkdwn.ts';
import { type Health, healthOfFindings, SEVERITY_ORDER } from '../health.ts';
import type { Draft } from './findings.ts';
import type { StatusArea, StatusFinding, StatusReport } from './report.ts';

/** How findings are ordered: what stops the mesh first, then what explains the rest. */
const AREA_RANK: Record<StatusArea, number> = {
  reachability: 0,
  'control-plane-config': 3,
  'remote-secret': 4,
  component: 5,
  drift: 6,
  sidecar: 7,
  'proxy-sync': 7,
  certificate: 7,
  version: 7,
  workload: 7,
  'not-checked': 8,
  restart: 9,
};

/** The discovery component's own problems come right after reachability: every proxy depends on them. */
function rank(d: Draft): number {
  if (d.discovery && d.area === 'component') return 1;
  if (d.discovery && d.area === 'drift') return 2;
  return AREA_RANK[d.area];
}

export const MAX_TOP = 3;

/**
 * Keeps, for each draft, the first of its possible causes that was actually found, then orders the
 * findings: by severity, causes before what they explain, by what stops the mesh first, by cluster.
 */
export function resolveFindings(drafts: readonly Draft[], clusterOrder: readonly string[]): StatusFinding[] {
  const seen = new Set<string>();
  const unique = drafts.filter((d) => !seen.has(d.id) && seen.add(d.id));
  const clusterRank = (c: string) => {
    const i = clusterOrder.indexOf(c);
    return i === -1 ? clusterOrder.length : i;
  };
  return unique
    .map((draft, i) => {
      const { explainedBy, discovery: _, ...finding } = draft;
      const cause = explainedBy?.find((id) => id !== finding.id && seen.has(id));
      return { finding: cause ? { ...finding, causedBy: cause } : finding, rank: rank(draft), i };
    })
    .sort(
      (a, b) =>
        SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] ||
        Number(a.finding.causedBy !== undefined) - Number(b.finding.causedBy !== undefined) ||
        a.rank - b.rank ||
        clusterRank(a.finding.cluster) - clusterRank(b.finding.cluster) ||
        a.i - b.i,
    )
    .map(({ finding }) => finding);
}

/** The one to three findings that matter most: unexplained ones that change the verdict. */
export function topFindings(findings: readonly StatusFinding[]): string[] {
  return findings
    .filter((f) => !f.causedBy && f.severity !== 'info')
    .slice(0, MAX_TOP)
    .map((f) => f.id);
}

/** How many findings each finding explains, directly or through a chain (pilot down → drift → sidecars). */
export function explainedCounts(findings: readonly StatusFinding[]): Map<string, number> {
  const byId = new Map(findings.map((f) => [f.id, f]));
  const counts = new Map<string, number>();
  for (const f of findings) {
    const visited = new Set<string>();
    for (let cause = f.causedBy; cause && !visited.has(cause); cause = byId.get(cause)?.causedBy) {
      visited.add(cause);
      counts.set(cause, (counts.get(cause) ?? 0) + 1);
    }
  }
  return counts;
}

export function healthOf(findings: readonly StatusFinding[], unreachable: boolean): Health {
  return unreachable ? 'down' : healthOfFindings(findings);
}

/** The mesh: down on any critical finding or when no cluster answered, else the worst cluster. */
export function meshHealth(findings: readonly StatusFinding[], reachable: readonly boolean[]): Health {
  if (reachable.length > 0 && reachable.every((r) => !r)) return 'down';
  return healthOf(findings, false);
}

/** The report in one line, for the parent message and the scheduled posts: what matters most, or what is fine. */
export function statusSummary(
  report: Pick<StatusReport, 'findings' | 'top' | 'clusters' | 'proxies'>,
): string {
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const first = report.top[0] ? byId.get(report.top[0]) : undefined;
  if (first) {
    const more = report.findings.filter((f) => f.severity !== 'info').length - 1;
    return `${first.text}${more > 0 ? ` (+${plural(more, 'more finding')})` : ''}`;
  }
  const reachable = report.clusters.filter((c) => c.reachable);
  const components = reachable.flatMap((c) => c.components);
  const sidecars = reachable.reduce((n, c) => n + (c.dataPlane?.withReadySidecar ?? 0), 0);
  const proxies = report.proxies ? `, ${report.proxies.summary}` : '';
  return `${plural(report.clusters.length, 'cluster')}: ${plural(components.length, 'component')} ready, ${plural(sidecars, 'sidecar')} ready, no drift${proxies}`;
}
