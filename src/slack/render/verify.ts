import type { KnownBlock } from '@slack/types';
import { plural } from '../../chat/mrkdwn.ts';
import { millis, percent, type VersionJudgement } from '../../mesh/routing/verify/judge.ts';
import { type Reading, rangeAt, type Verification } from '../../mesh/routing/verify/watch.ts';
import { when, who } from './approval.ts';
import { context, section } from './blocks.ts';

/** The verification window in the change's thread: one message, edited in place at every reading. */

const ICON: Record<Verification['state'], string> = {
  watching: ':mag:',
  passed: ':white_check_mark:',
  'too-little': ':grey_question:',
  unverified: ':warning:',
  reverted: ':rewind:',
  'revert-blocked': ':warning:',
  'revert-failed': ':x:',
  'revert-proposed': ':raised_hand:',
  breached: ':rotating_light:',
};

const VERDICT: Record<VersionJudgement['verdict'], string> = {
  ok: 'ok',
  breach: '*breach*',
  'too-little': 'too little traffic to judge',
};

function versionLine(v: VersionJudgement, t: Verification['thresholds'], rangeMs: number): string {
  const parts = [
    `\`${v.service}\` ${v.version}`,
    `${(v.requests / Math.max(1, rangeMs / 1000)).toFixed(1)} req/s (${plural(Math.round(v.requests), 'request')})`,
    `5xx ${v.errorShare === null ? 'n/a' : percent(v.errorShare)}`,
    `p99 ${millis(v.p99Ms)}${v.baselineP99Ms !== null ? ` (before: ${millis(v.baselineP99Ms)})` : ''}`,
  ];
  const verdict =
    v.verdict === 'too-little'
      ? `too little traffic to judge (< ${plural(t.minRequests, 'request')})`
      : v.verdict === 'breach'
        ? `*breach*: ${v.reasons.join('; ')}`
        : VERDICT.ok;
  return `• ${parts.join(' · ')} — ${verdict}`;
}

const readingCount = (v: Verification) => Math.round(v.windowMs / v.intervalMs);

function headline(v: Verification): string {
  const change = `\`${v.label}\` on ${v.cluster}`;
  const n = v.readings.length;
  switch (v.state) {
    case 'watching':
      return `${ICON.watching} *Verifying ${change}*: reading ${n} of ${readingCount(v)}, until ${when(v.endsAt)}`;
    default:
      return `${ICON[v.state]} *Verification of ${change}*: ${v.outcome ?? v.state}`;
  }
}

function lastLines(v: Verification): string[] {
  const last: Reading | undefined = v.readings.at(-1);
  if (!last) return ['Baseline taken; the first reading follows in one interval.'];
  if ('error' in last)
    return [
      `:warning: Verification could not run at this reading: ${last.error}. Nothing is reverted on missing data.`,
    ];
  const j = last.judgement;
  if (j.versions.length === 0)
    return ['No requests to the changed services yet: too little traffic to judge.'];
  const lines = j.versions.map((x) => versionLine(x, v.thresholds, rangeAt(v, last.at)));
  if (j.verdict === 'too-little')
    lines.push('Too little traffic to judge: nothing is decided on this reading.');
  return lines;
}

/** The progress message: headline, the latest reading per version, the thresholds. */
export function verifyProgress(v: Verification): { text: string; blocks: KnownBlock[] } {
  const t = v.thresholds;
  return {
    text: headline(v).replace(/[*`]/g, ''),
    blocks: [
      section(headline(v)),
      section(lastLines(v).join('\n')),
      ...(v.chartError ? [section(`:warning: The chart could not be attached: ${v.chartError}`)] : []),
      context(
        `Per destination version from Prometheus, against the ${Math.round(v.windowMs / 60_000) || '<1'} min before the change · breach: 5xx > ${percent(t.maxErrorRate)} or p99 > ${t.maxLatencyRatio}× the baseline · judged from ${plural(t.minRequests, 'request')} · every ${Math.round(v.intervalMs / 1000)} s`,
      ),
    ],
  };
}

/** Posted when the window breached: what was done about it, naming requester and approver. */
export function verifyBreachReply(
  v: Verification,
  breach: string,
  result:
    | { kind: 'reverted'; lines: string[] }
    | { kind: 'blocked'; reason: string }
    | { kind: 'failed'; reason: string }
    | { kind: 'proposed' }
    /** revert: propose, but the revert could not be put up for approval. */
    | { kind: 'not-proposed'; reason: string }
    | { kind: 'off' },
): { text: string; blocks: KnownBlock[] } {
  const people = `${who(v.requester)} (requested) ${who(v.approver)} (approved)`;
  const change = `\`${v.label}\``;
  const lines: string[] = [];
  switch (result.kind) {
    case 'reverted':
      lines.push(
        `:rewind: ${people}: meshops reverted ${change} on ${v.cluster} under the same approval, because ${breach}.`,
        ...result.lines.map((l) => `• ${l}`),
      );
      break;
    case 'blocked':
      lines.push(
        `:warning: ${people}: ${change} breached (${breach}), but the VirtualService was ${result.reason}. meshops did not overwrite it.`,
        'Please decide: keep what is live now, or use `/mesh route rollback` (it asks for approval again).',
      );
      break;
    case 'failed':
      lines.push(
        `:x: ${people}: ${change} breached (${breach}) and the revert failed: ${result.reason}.`,
        'Use `/mesh route rollback` or fix the VirtualService by hand.',
      );
      break;
    case 'proposed':
      lines.push(
        `:raised_hand: ${people}: ${change} breached (${breach}). routing.verify.revert is propose: a revert is up for approval in this channel.`,
      );
      break;
    case 'not-proposed':
      lines.push(
        `:x: ${people}: ${change} breached (${breach}). routing.verify.revert is propose, but the revert could not be put up for approval: ${result.reason}`,
        'Nothing was reverted: use `/mesh route rollback` once that is resolved.',
      );
      break;
    case 'off':
      lines.push(
        `:rotating_light: ${people}: ${change} breached (${breach}). routing.verify.revert is off: nothing was reverted; \`/mesh route rollback\` undoes it.`,
      );
      break;
  }
  return { text: lines[0]!.replace(/[*`]/g, ''), blocks: [section(lines.join('\n'))] };
}
