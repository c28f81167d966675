import type { Draft } from './findings.ts';
import type { Finding, FindingArea, Health, Severity } from './report.ts';

/** How findings are ordered: what stops the mesh first, then what explains the rest. */
const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
const AREA_RANK: Record<FindingArea, number> = {
  reachability: 0,
  'control-plane-config': 3,
  'remote-secret': 4,
  component: 5,
  drift: 6,
  sidecar: 7,
  'proxy-sync': 7,
  certificate: 7,
  version: 7,
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
export function resolveFindings(drafts: readonly Draft[], clusterOrder: readonly string[]): Finding[] {
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
        SEVERITY_RANK[a.finding.severity] - SEVERITY_RANK[b.finding.severity] ||
        Number(a.finding.causedBy !== undefined) - Number(b.finding.causedBy !== undefined) ||
        a.rank - b.rank ||
        clusterRank(a.finding.cluster) - clusterRank(b.finding.cluster) ||
        a.i - b.i,
    )
    .map(({ finding }) => finding);
}

/** The one to three findings that matter most: unexplained ones that change the verdict. */
export function topFindings(findings: readonly Finding[]): string[] {
  return findings
    .filter((f) => !f.causedBy && f.severity !== 'info')
    .slice(0, MAX_TOP)
    .map((f) => f.id);
}

/** How many findings each finding explains, directly or through a chain (pilot down → drift → sidecars). */
export function explainedCounts(findings: readonly Finding[]): Map<string, number> {
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

export function healthOf(findings: readonly Finding[], unreachable: boolean): Health {
  if (unreachable || findings.some((f) => f.severity === 'critical')) return 'down';
  return findings.some((f) => f.severity === 'warning') ? 'degraded' : 'healthy';
}

/** The mesh: down on any critical finding or when no cluster answered, else the worst cluster. */
export function meshHealth(findings: readonly Finding[], reachable: readonly boolean[]): Health {
  if (reachable.length > 0 && reachable.every((r) => !r)) return 'down';
  return healthOf(findings, false);
}
