import { type Health, healthRank } from '../mesh/health.ts';
import type { RunFinding } from './report.ts';

/** What the previous run left in Redis: enough to tell what changed, nothing more. */
export interface PreviousRun {
  verdict: Health;
  findings: RunFinding[];
  at: number;
}

export type ChangeKind = 'none' | 'worse' | 'better' | 'recovered' | 'new-findings';

export interface Transition {
  kind: ChangeKind;
  from: Health;
  to: Health;
  added: RunFinding[];
  resolved: RunFinding[];
  /** The mention goes out only on the way down: a worse verdict, or new problems while not healthy. */
  mention: boolean;
}

/**
 * Compares a run with the previous one. With no previous run the mesh is assumed to have been healthy, so a
 * first run that finds problems says so (and mentions) instead of staying silent.
 */
export function compare(
  previous: PreviousRun | undefined,
  current: { verdict: Health; findings: readonly RunFinding[] },
): Transition {
  const from = previous?.verdict ?? 'healthy';
  const before = new Set((previous?.findings ?? []).map((f) => f.id));
  const now = new Set(current.findings.map((f) => f.id));
  const added = current.findings.filter((f) => !before.has(f.id));
  const resolved = (previous?.findings ?? []).filter((f) => !now.has(f.id));
  const up = healthRank(current.verdict) - healthRank(from);
  let kind: ChangeKind;
  if (up > 0) kind = 'worse';
  else if (up < 0) kind = healthRank(current.verdict) === 0 ? 'recovered' : 'better';
  else kind = added.length > 0 ? 'new-findings' : 'none';
  const mention = kind === 'worse' || (kind === 'new-findings' && healthRank(current.verdict) > 0);
  return { kind, from, to: current.verdict, added, resolved, mention };
}
