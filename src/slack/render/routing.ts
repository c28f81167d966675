import type { KnownBlock } from '@slack/types';
import { plural, utcText } from '../../chat/mrkdwn.ts';
import type { JobResult } from '../../chat/reply.ts';
import { describeVirtualService, effectLines } from '../../mesh/routing/describe.ts';
import { diffStat, type LiveVirtualService, type Plan } from '../../mesh/routing/plan.ts';
import type { PreflightCheck } from '../../mesh/routing/preflight.ts';
import type { Preset } from '../../mesh/routing/presets.ts';
import type { RoutingOutcome } from '../../mesh/routing/request.ts';
import { refText } from '../../mesh/routing/types.ts';
import { checkLines, diffSections, when } from './approval.ts';
import { context, header, linesToSections, section } from './blocks.ts';

/** What `/mesh route …` answers, as pure functions of typed data. */

export type LiveState =
  | { ok: true; cluster: string; virtualServices: ReadonlyMap<string, LiveVirtualService> }
  | { ok: false; cluster: string; reason: string };

export function renderPresetList(
  presets: readonly Preset[],
  live: LiveState,
  matches: readonly string[],
): JobResult {
  const lines = presets.map((p) => {
    const mark = matches.includes(p.name) ? ' :white_check_mark: _live_' : '';
    const effects = p.virtualServices.map((v) => describeVirtualService(v.ref.name, v.spec));
    return effects.length === 1
      ? `*${p.name}*${mark} — ${effects[0]}`
      : `*${p.name}*${mark}\n${effects.map((e) => `    ${e}`).join('\n')}`;
  });
  const state = !live.ok
    ? `live routes on ${live.cluster} could not be read (${live.reason})`
    : matches.length > 0
      ? `live routes on ${live.cluster} match ${matches.join(', ')}`
      : `live routes on ${live.cluster} match no preset`;
  const summary = `${plural(presets.length, 'preset')}; ${state}`;
  return {
    verdict: 'info',
    summary,
    text: `Routing presets: ${summary}`,
    blocks: [
      header(`Routing presets (${presets.length})`),
      ...linesToSections(lines),
      context(
        `${state[0]!.toUpperCase()}${state.slice(1)}. \`/mesh route diff <preset>\` shows what a preset would change.`,
      ),
    ],
  };
}

export function renderShow(live: LiveState, namespaces: readonly string[], only?: string): JobResult {
  if (!live.ok) {
    return {
      verdict: 'failed',
      summary: `VirtualServices on ${live.cluster} could not be read: ${live.reason}`,
      text: `Live routes: ${live.reason}`,
      blocks: [section(`:x: VirtualServices on *${live.cluster}* could not be read: ${live.reason}`)],
    };
  }
  const all = [...live.virtualServices.values()];
  const where = `${live.cluster} (namespace ${namespaces.join(', ')})`;
  const shown = only === undefined ? all : all.filter((v) => v.ref.name === only);
  if (only !== undefined && shown.length === 0) {
    const names = all.map((v) => v.ref.name).join(', ') || 'none';
    const text = `No VirtualService "${only}" on ${where}. Existing: ${names}.`;
    return {
      verdict: 'info',
      summary: `no VirtualService "${only}"; existing: ${names}`,
      text,
      blocks: [section(text)],
    };
  }
  const lines = shown.map((v) => describeVirtualService(v.ref.name, v.spec));
  const summary =
    only !== undefined ? (lines[0] ?? '') : `${plural(all.length, 'VirtualService')} on ${live.cluster}`;
  return {
    verdict: 'info',
    summary,
    text: `Live routes on ${where}: ${lines.join('; ')}`,
    blocks: [
      header(`Live routes on ${live.cluster}`),
      ...(lines.length > 0 ? linesToSections(lines) : [section(`No VirtualServices on ${where}.`)]),
      context(
        `Read from ${where} · ${shown.map((v) => `${v.ref.name} rv ${v.resourceVersion}`).join(', ') || 'nothing to show'}`,
      ),
    ],
  };
}

export function renderDiff(preset: string, cluster: string, plan: Plan): JobResult {
  if (plan.changes.length === 0) {
    const summary = `live routes on ${cluster} already match ${preset}`;
    return {
      verdict: 'info',
      summary,
      text: summary,
      blocks: [section(`:white_check_mark: The ${summary}.`)],
    };
  }
  const summary = `${preset} would change ${plural(plan.changes.length, 'VirtualService')} on ${cluster} (${diffStat(plan.diff)})`;
  return {
    verdict: 'info',
    summary,
    text: summary,
    blocks: [
      header(`Diff: live → ${preset}`),
      ...linesToSections(effectLines(plan.changes), '*Effect*\n'),
      ...diffSections(plan.diff),
      context(
        `${plan.unchanged.length > 0 ? `Unchanged: ${plan.unchanged.map(refText).join(', ')} · ` : ''}plan \`${plan.hash.slice(0, 12)}\``,
      ),
    ],
  };
}

/** The thread reply to `/mesh route apply|rollback` once the approval message is up. */
export function renderRequested(
  title: string,
  plan: Plan,
  checks: readonly PreflightCheck[],
  request: { id: string; expiresAt: number },
): JobResult {
  const summary = `approval requested (${request.id}); waiting for an approver until ${utcText(request.expiresAt)}`;
  const blocks: KnownBlock[] = [
    section(
      `:raised_hand: *${title}* waits for approval by someone in access.approvers other than you, until ${when(request.expiresAt)}. The approval message is in this channel.`,
    ),
    ...linesToSections(effectLines(plan.changes), '*Effect*\n'),
  ];
  if (checks.length > 0) blocks.push(...linesToSections(checkLines(checks), '*Pre-flight*\n'));
  return { verdict: 'info', summary, text: `${title}: ${summary}`, blocks, awaiting: [request.id] };
}

/** Why nothing was requested: pre-flight blocked it, a lock is held, or there is nothing to change. */
export function renderNotRequested(
  title: string,
  reason: string,
  checks: readonly PreflightCheck[] = [],
  verdict: JobResult['verdict'] = 'failed',
): JobResult {
  const blocks: KnownBlock[] = [
    section(`${verdict === 'info' ? ':information_source:' : ':no_entry:'} *${title}*: ${reason}`),
  ];
  if (checks.length > 0) blocks.push(...linesToSections(checkLines(checks), '*Pre-flight*\n'));
  return { verdict, summary: reason, text: `${title}: ${reason}`, blocks };
}

/** The thread reply to `/mesh route apply|rollback`: the request made, or why there is none. */
export function renderRoutingOutcome(outcome: RoutingOutcome): JobResult {
  return outcome.kind === 'requested'
    ? renderRequested(outcome.title, outcome.plan, outcome.checks, outcome.request)
    : renderNotRequested(outcome.title, outcome.reason, outcome.checks, outcome.verdict);
}
