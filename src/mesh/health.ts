/**
 * The one vocabulary of results every check uses (`/mesh status`, `/mesh vpn`, the scheduled posts, drift
 * verification): findings with a severity, rolled up into a health.
 */

/** critical makes a check down, warning degraded; info is shown and changes nothing. */
export type Severity = 'critical' | 'warning' | 'info';

/** A check's roll-up of its findings; failed means the check could not look at all. */
export type Health = 'healthy' | 'degraded' | 'down' | 'failed';

/** One problem a check found. */
export interface Finding<Area extends string = string> {
  /**
   * Stable across runs while the problem lasts (`iks/drift/pilot`, `vpn/tunnel/iks`): runs are compared by it,
   * so a scheduler tells "new" from "same".
   */
  id: string;
  /** What part of the mesh it is about; each check names its own areas. */
  area: Area;
  severity: Severity;
  /** What is wrong, in one line. */
  text: string;
  /** What to do about it. */
  action?: string;
  /** The cluster it is about, when it is about one (its text then starts with the cluster name). */
  cluster?: string;
  /** The id of the finding that explains this one (cluster unreachable, pilot down, drift). */
  causedBy?: string;
  /** Output that could not be parsed, attached as it came. */
  raw?: string;
}

/** Most severe first. */
export const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** How bad a health is; failed (nobody could look) sits between degraded and down. */
const HEALTH_RANK: Record<Health, number> = { healthy: 0, degraded: 1, failed: 2, down: 3 };

export function healthRank(health: Health): number {
  return HEALTH_RANK[health];
}

/** The worst of several healths (healthy for none). */
export function worstHealth(healths: readonly Health[]): Health {
  return healths.reduce<Health>((acc, h) => (HEALTH_RANK[h] > HEALTH_RANK[acc] ? h : acc), 'healthy');
}

/** down on any critical finding, degraded on any warning, else healthy. */
export function healthOfFindings(findings: readonly Pick<Finding, 'severity'>[]): Health {
  if (findings.some((f) => f.severity === 'critical')) return 'down';
  return findings.some((f) => f.severity === 'warning') ? 'degraded' : 'healthy';
}
