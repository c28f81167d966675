import type { Verdict } from '../jobs/types.ts';
import { type Finding, rank } from './report.ts';

/** What the previous run left in Redis: enough to tell what changed, nothing more. */
export interface PreviousRun {
  verdict: Verdict;
  findings: Finding[];
  at: number;
}

export type ChangeKind = 'none' | 'worse' | 'better' | 'recovered' | 'new-findings';

export interface Transition {
  kind: ChangeKind;
  from: Verdict;
  to: Verdict;
  added: Finding[];
  resolved: Finding[];
  /** The mention goes out only on the way down: a worse verdict, or new problems while not healthy. */
  mention: boolean;
}

/**
 * Compares a run with the previous one. With no previous run the mesh is assumed to have been healthy, so a
 * first run that finds problems says so (and mentions) instead of staying silent.
 */
export function compare(
  previous: PreviousRun | undefined,
  current: { verdict: Verdict; findings: readonly Finding[] },
): Transition {
  const from = previous?.verdict ?? 'healthy';
  const before = new Set((previous?.findings ?? []).map((f) => f.id));
  const now = new Set(current.findings.map((f) => f.id));
  const added = current.findings.filter((f) => !before.has(f.id));
  const resolved = (previous?.findings ?? []).filter((f) => !now.has(f.id));
  const up = rank(current.verdict) - rank(from);
  let kind: ChangeKind;
  if (up > 0) kind = 'worse';
  else if (up < 0) kind = rank(current.verdict) === 0 ? 'recovered' : 'better';
  else kind = added.length > 0 ? 'new-findings' : 'none';
  const mention = kind === 'worse' || (kind === 'new-findings' && rank(current.verdict) > 0);
  return { kind, from, to: current.verdict, added, resolved, mention };
}
