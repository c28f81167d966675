import type { KnownBlock } from '@slack/types';
import { channelRef, groupRef, userRef } from '../chat/mrkdwn.ts';
import type { JobResult, Message } from '../chat/reply.ts';
import type { ScheduleConfig } from '../config/schema.ts';
import { clip, context, header, linesToSections, section } from '../slack/render/blocks.ts';
import { type ParentMessage, VERDICT_ICON } from '../slack/render/parent.ts';
import type { RunFinding, RunOutcome } from './report.ts';
import type { LastRun, PausedState, PostingError } from './store.ts';
import { clockTime, dateTime, dayKey } from './timing.ts';
import type { Transition } from './transition.ts';

/** Findings shown in a post; the rest are counted, and `/mesh status` has them all. */
const MAX_FINDINGS = 10;
/** A cron run this much later than its slot ran after downtime; the post says so. */
const LATE_MS = 60_000;

const SEVERITY_ICON: Record<RunFinding['severity'], string> = {
  critical: ':small_red_triangle:',
  warning: ':warning:',
  info: ':information_source:',
};

/** `<@U…>` notifies a user, `<!subteam^S…>` a user group; config allows only these two shapes. */
export function mentionOf(id: string): string {
  return id.startsWith('S') ? groupRef(id) : userRef(id);
}

/** One run as a post shows it. */
export interface RunView {
  schedule: ScheduleConfig;
  outcome: RunOutcome;
  /** When the checks finished. */
  at: number;
  /** The cron slot the run belongs to; absent for `/mesh schedule run`. */
  scheduledFor?: number;
  /** Who asked for a manual run. */
  requestedBy?: string;
  next: number;
}

function findingLines(findings: readonly RunFinding[], bullet?: string): string[] {
  const shown = findings
    .slice(0, MAX_FINDINGS)
    .map((f) => `${bullet ?? SEVERITY_ICON[f.severity]} ${f.text}`);
  if (findings.length > MAX_FINDINGS) shown.push(`…and ${findings.length - MAX_FINDINGS} more`);
  return shown;
}

function runBody(view: RunView): KnownBlock[] {
  const { outcome } = view;
  const checks = outcome.reports.map(
    (r) => `${VERDICT_ICON[r.verdict]} *${r.check}* — ${clip(r.summary, 300)}`,
  );
  return [
    section(checks.join('\n')),
    ...(outcome.findings.length > 0 ? linesToSections(findingLines(outcome.findings)) : []),
  ];
}

function runNotes(view: RunView): string[] {
  const tz = view.schedule.timezone;
  const notes: string[] = [];
  if (view.requestedBy) notes.push(`run now by ${userRef(view.requestedBy)}`);
  if (view.scheduledFor !== undefined && view.at - view.scheduledFor > LATE_MS)
    notes.push(`catch-up of the ${clockTime(view.scheduledFor, tz)} run missed while meshops was down`);
  notes.push(`next run ${dateTime(view.next, tz)}`);
  return notes;
}

function headline(view: RunView): string {
  const v = view.outcome.verdict;
  return `${VERDICT_ICON[v]} *${v}* at ${clockTime(view.at, view.schedule.timezone)} (${view.schedule.timezone})`;
}

function fallback(view: RunView): string {
  return `Mesh health (${view.schedule.name}): ${view.outcome.verdict} at ${dateTime(view.at, view.schedule.timezone)}`;
}

/** The day's digest parent, rewritten after every run. */
export function renderDigest(view: RunView, today: { runs: number; changes: number }): ParentMessage {
  const tz = view.schedule.timezone;
  const changes =
    today.changes === 0
      ? 'no changes today'
      : `${today.changes} change${today.changes === 1 ? '' : 's'} today (in the thread)`;
  return {
    text: fallback(view),
    blocks: [
      header(`Mesh health · ${dayKey(view.at, tz)}`),
      section(`${headline(view)} · schedule \`${view.schedule.name}\``),
      ...runBody(view),
      context(`${today.runs} run${today.runs === 1 ? '' : 's'} today · ${changes}`, ...runNotes(view)),
    ],
  };
}

function changeLine(t: Transition, mention: string | undefined): string {
  const tail = t.mention && mention ? ` ${mentionOf(mention)}` : '';
  switch (t.kind) {
    case 'worse':
      return `${VERDICT_ICON[t.to]} *${t.from} → ${t.to}*${tail}`;
    case 'recovered':
      return `${VERDICT_ICON.healthy} *recovered*: ${t.from} → healthy`;
    case 'better':
      return `${VERDICT_ICON[t.to]} *better*: ${t.from} → ${t.to}`;
    case 'new-findings':
      return `${VERDICT_ICON[t.to]} still *${t.to}*, with ${t.added.length === 1 ? 'a new problem' : 'new problems'}${tail}`;
    case 'none':
      return `${VERDICT_ICON[t.to]} no change: *${t.to}*`;
  }
}

function changeDetail(t: Transition): KnownBlock[] {
  return [
    ...(t.added.length > 0 ? linesToSections(findingLines(t.added), '*New*\n') : []),
    ...(t.resolved.length > 0
      ? linesToSections(findingLines(t.resolved, ':white_check_mark:'), '*Resolved*\n')
      : []),
  ];
}

/** The digest thread reply when the state changes: what changed, and the mention on the way down. */
export function renderChange(view: RunView, t: Transition): ParentMessage {
  const line = `${changeLine(t, view.schedule.mention)} at ${clockTime(view.at, view.schedule.timezone)}`;
  return { text: line, blocks: [section(line), ...changeDetail(t)] };
}

/** Every-run mode: one post per run, carrying the change (and the mention) when there is one. */
export function renderRunPost(view: RunView, t: Transition): ParentMessage {
  const change = t.kind === 'none' ? [] : [section(changeLine(t, view.schedule.mention)), ...changeDetail(t)];
  return {
    text: fallback(view),
    blocks: [
      section(`${headline(view)} · schedule \`${view.schedule.name}\``),
      ...runBody(view),
      ...change,
      context(...runNotes(view)),
    ],
  };
}

export interface ScheduleRow {
  schedule: ScheduleConfig;
  next: number;
  last?: LastRun;
  paused?: PausedState;
  error?: PostingError;
}

function rowLines(row: ScheduleRow): string {
  const { schedule: s, last, paused, error } = row;
  const lines = [
    `*${s.name}* — ${s.mode} into ${channelRef(s.channel)} · \`${s.cron}\` ${s.timezone} · checks: ${s.checks.join(', ')}${
      s.mention ? ` · mentions ${mentionOf(s.mention)} on degradation` : ''
    }`,
    paused
      ? `:double_vertical_bar: *paused* by ${userRef(paused.by)} since ${dateTime(paused.at, s.timezone)} — the run at ${dateTime(row.next, s.timezone)} will be skipped`
      : `next run: ${dateTime(row.next, s.timezone)}`,
    last
      ? `last verdict: ${VERDICT_ICON[last.verdict]} *${last.verdict}* at ${dateTime(last.at, s.timezone)} — ${clip(last.summary, 300)}`
      : 'last verdict: no run yet',
  ];
  if (error) {
    const since = last && last.at > error.at ? ' (posted fine since)' : '';
    lines.push(
      `:warning: last posting error: \`${error.code}\` at ${dateTime(error.at, s.timezone)}, attempt ${error.attempt}${since}`,
    );
  }
  return lines.join('\n');
}

export function renderScheduleList(rows: readonly ScheduleRow[]): JobResult {
  if (rows.length === 0) {
    const text = 'No scheduled health posts: add entries under `schedules:` in the config.';
    return { verdict: 'info', summary: 'no schedules configured', text, blocks: [section(text)] };
  }
  const paused = rows.filter((r) => r.paused).length;
  const failing = rows.filter((r) => r.error && !(r.last && r.last.at > r.error.at)).length;
  const summary = [
    `${rows.length} schedule${rows.length === 1 ? '' : 's'}`,
    ...(paused > 0 ? [`${paused} paused`] : []),
    ...(failing > 0 ? [`${failing} failing to post`] : []),
  ].join(', ');
  return {
    verdict: 'info',
    summary,
    text: `Scheduled health posts: ${summary}`,
    blocks: [
      header('Scheduled health posts'),
      ...linesToSections(rows.map(rowLines).flatMap((r) => [r, ''])),
      context(
        'Times are in each schedule’s own time zone. Pause or resume: `/mesh schedule pause|resume <name>`.',
      ),
    ],
  };
}

function info(line: string, summary: string, ...notes: string[]): JobResult {
  return {
    verdict: 'info',
    summary,
    text: line,
    blocks: [section(line), ...(notes.length > 0 ? [context(...notes)] : [])],
  };
}

export function renderPaused(schedule: ScheduleConfig, next: number, already?: PausedState): JobResult {
  const tz = schedule.timezone;
  if (already)
    return info(
      `\`${schedule.name}\` is already paused (by ${userRef(already.by)} since ${dateTime(already.at, tz)}); nothing changed.`,
      'already paused',
    );
  return info(
    `:double_vertical_bar: Paused \`${schedule.name}\`: its runs are skipped, not queued up, until \`/mesh schedule resume ${schedule.name}\`.`,
    `paused ${schedule.name}`,
    `The next skipped run: ${dateTime(next, tz)}. \`/mesh schedule run ${schedule.name}\` still posts on request.`,
  );
}

export function renderResumed(schedule: ScheduleConfig, next: number, wasPaused: boolean): JobResult {
  if (!wasPaused) return info(`\`${schedule.name}\` is not paused; nothing changed.`, 'not paused');
  return info(
    `:arrow_forward: Resumed \`${schedule.name}\`: the next run is ${dateTime(next, schedule.timezone)}.`,
    `resumed ${schedule.name}`,
  );
}

/** The requester's thread after `/mesh schedule run`: where it went and what it found. */
export function renderRunConfirmation(
  schedule: ScheduleConfig,
  outcome: RunOutcome,
  t: Transition,
  paused?: PausedState,
): JobResult {
  const where =
    schedule.mode === 'digest'
      ? `today's digest in ${channelRef(schedule.channel)} is updated`
      : `posted in ${channelRef(schedule.channel)}`;
  const line = `Ran \`${schedule.name}\` now: ${VERDICT_ICON[outcome.verdict]} *${outcome.verdict}* — ${where}${
    t.kind === 'none'
      ? ''
      : `, with a change: ${t.from} → ${t.to}${t.added.length > 0 ? ` (${t.added.length} new)` : ''}`
  }.`;
  return {
    verdict: outcome.verdict,
    summary: `${schedule.name}: ${outcome.verdict}, ${where}`,
    text: line,
    blocks: [
      section(line),
      ...(paused
        ? [
            context(
              `\`${schedule.name}\` is paused: this run was on request; its cron runs stay skipped until resumed.`,
            ),
          ]
        : []),
    ],
  };
}

export function renderCannotPost(schedule: ScheduleConfig, code: string): JobResult {
  const line = `:warning: \`${schedule.name}\` could not post in ${channelRef(schedule.channel)}: Slack said \`${code}\`. Invite me there with \`/invite @meshops\`, or fix \`channel\` in its \`schedules:\` entry.`;
  return {
    verdict: 'failed',
    summary: `could not post in the schedule's channel (${code})`,
    text: line,
    blocks: [section(line)],
  };
}

/** Under a run someone started who may not request repairs: the drift stays reported, nothing is requested. */
export function renderRepairNotProposed(remotes: readonly string[], runBy: string): Message {
  const text = `:information_source: Drift found on ${remotes.join(', ')}. No repair was proposed: ${userRef(runBy)} ran this schedule and is not in access.operators. An operator can run \`/mesh repair drift\`.`;
  return { text, blocks: [section(text)] };
}
