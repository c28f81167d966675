import type { IstioProfile } from '../../../config/schema.ts';
import type { WrittenObject } from '../written.ts';
import { breachLines, type Judgement, judge, type Thresholds } from './judge.ts';
import { type MetricsReader, readService, type ServiceStats } from './read.ts';

/**
 * The verification window after an applied routing change: what is watched, every reading, and how it
 * ended. Stored as JSON between readings, so a reading is one short job and a worker that dies mid-window
 * loses nothing.
 */

export interface WatchedService {
  /** Service name, e.g. "reviews". */
  name: string;
  /** destination_service as Istio reports it, e.g. "reviews.default.svc.cluster.local". */
  fqdn: string;
  /** The destination versions the new routes send to (subset labels `version`, else the subset name). */
  routed: string[];
}

export type Reading = { at: number; judgement: Judgement } | { at: number; error: string };

export type WatchState =
  | 'watching'
  /** The window ended with every judged reading within the thresholds. */
  | 'passed'
  /** The window ended without one reading with enough traffic. */
  | 'too-little'
  /** The window ended without one reading: Prometheus could not be read. */
  | 'unverified'
  | 'reverted'
  /** Breached, and someone changed the VirtualService since: nothing was overwritten. */
  | 'revert-blocked'
  | 'revert-failed'
  /** Breached with revert: propose: an approval was posted. */
  | 'revert-proposed'
  /** Breached with revert: off. */
  | 'breached';

export interface Verification {
  /** The approval request the change was applied under. */
  id: string;
  /** The change's label: a preset name, or "rollback". */
  label: string;
  cluster: string;
  profile: IstioProfile;
  channel: string;
  /** The approval message: the thread everything is posted in. */
  threadTs: string;
  requester: string;
  approver: string;
  changedAt: number;
  endsAt: number;
  intervalMs: number;
  windowMs: number;
  thresholds: Thresholds;
  services: WatchedService[];
  written: WrittenObject[];
  baseline?: Record<string, ServiceStats>;
  readings: Reading[];
  state: WatchState;
  /** The progress message, edited in place. */
  progressTs?: string;
  revertedAt?: number;
  /** One line on how it ended. */
  outcome?: string;
  /** The chart was posted (after a revert it follows a little later, to show the traffic going back). */
  chartPosted?: boolean;
  /** Why the chart could not be attached; the verification message says so instead. */
  chartError?: string;
}

/** After a revert, the chart waits this long so it shows the traffic going back. */
export const chartDelayAfterRevert = (v: Verification) => Math.max(2 * v.intervalMs, 5000);

/** The reading's range: the time since the change, at most two intervals (and a minute), so a breach shows soon. */
export const rangeAt = (v: Verification, at: number) =>
  Math.min(at - v.changedAt, Math.max(2 * v.intervalMs, 60_000));

async function readAll(
  v: Verification,
  reader: MetricsReader,
  at: number,
  rangeMs: number,
): Promise<Record<string, ServiceStats>> {
  const entries = await Promise.all(
    v.services.map(
      async (s) => [s.name, await readService(reader, v.profile, s.fqdn, at, rangeMs, s.routed)] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/** The same queries over the window before the change. */
export const readBaseline = (v: Verification, reader: MetricsReader) =>
  readAll(v, reader, v.changedAt, v.windowMs);

export type Step = 'continue' | 'breach' | 'end';

/** Takes one reading and says what comes next; a failed read is recorded and never counts as a breach. */
export async function takeReading(
  v: Verification,
  reader: MetricsReader,
  at: number,
): Promise<{ reading: Reading; step: Step }> {
  const ended = at >= v.endsAt;
  let reading: Reading;
  try {
    const now = await readAll(v, reader, at, rangeAt(v, at));
    reading = { at, judgement: judge(now, v.baseline ?? {}, v.thresholds) };
  } catch (err) {
    reading = { at, error: (err instanceof Error ? err.message : String(err)).split('\n')[0]! };
  }
  if ('judgement' in reading && reading.judgement.verdict === 'breach') return { reading, step: 'breach' };
  return { reading, step: ended ? 'end' : 'continue' };
}

/** How a window that ran out ends: passed, too little traffic, or not verified at all. */
export function endState(v: Verification): { state: WatchState; outcome: string } {
  const judged = v.readings.filter((r) => 'judgement' in r);
  const failed = v.readings.length - judged.length;
  if (judged.length === 0)
    return {
      state: 'unverified',
      outcome: `verification could not run: no reading of Prometheus succeeded (${failed} failed); nothing was reverted`,
    };
  if (judged.every((r) => r.judgement.verdict === 'too-little'))
    return {
      state: 'too-little',
      outcome: 'too little traffic to judge during the whole window; nothing was reverted',
    };
  return {
    state: 'passed',
    outcome: `within the thresholds for the whole window (${judged.length} readings${failed ? `, ${failed} could not be taken` : ''})`,
  };
}

export const lastJudgement = (v: Verification): Judgement | undefined =>
  [...v.readings].reverse().find((r): r is Extract<Reading, { judgement: Judgement }> => 'judgement' in r)
    ?.judgement;

export const breachText = (j: Judgement) => breachLines(j).join('; ');
