import type { KnownBlock } from '@slack/types';
import { MAX_LIST_LINES, plural } from '../../chat/mrkdwn.ts';
import type { JobResult } from '../../chat/reply.ts';
import { type Health, worstHealth } from '../../mesh/health.ts';
import {
  capped,
  type RemoteOutcome,
  repairTitle,
  restartTitle,
  stepLines,
} from '../../mesh/repair/describe.ts';
import type { RolloutStep } from '../../mesh/repair/rollout-state.ts';
import type { Verification } from '../../mesh/repair/verify.ts';
import { checkLines, diffSections, when } from './approval.ts';
import { context, linesToSections, section } from './blocks.ts';
import { VERDICT_ICON } from './parent.ts';

/** Everything `/mesh repair drift` and its approval steps say in Slack, as pure functions of typed data. */

function outcomeSummary(o: RemoteOutcome): string {
  switch (o.kind) {
    case 'requested':
      return `${o.remote}: ${o.step === 'repair' ? 'repair' : 'rolling restart'} waits for approval (${o.request.id})`;
    case 'nothing':
      return o.left.length > 0
        ? `${o.remote}: nothing meshops can repair now, ${plural(o.left.length, 'address', 'addresses')} left for you`
        : `${o.remote}: nothing to repair`;
    case 'not-requested':
      return `${o.remote}: ${o.reason}`;
  }
}

function outcomeBlocks(o: RemoteOutcome): KnownBlock[] {
  switch (o.kind) {
    case 'requested': {
      const title = o.step === 'repair' ? repairTitle(o.remote) : restartTitle(o.remote);
      return [
        section(
          `:raised_hand: *${title}* waits for approval by someone in access.approvers other than the requester, until ${when(o.request.expiresAt)}. The approval message (request \`${o.request.id}\`) is in this channel.`,
        ),
        ...linesToSections(o.effect, '*Effect*\n'),
        ...diffSections(o.diff),
        ...(o.checks.length > 0 ? linesToSections(checkLines(o.checks), '*Pre-flight*\n') : []),
      ];
    }
    case 'nothing':
      return o.left.length === 0
        ? [
            section(
              `:white_check_mark: *${o.remote}* points at the live control plane on ${o.primary}: nothing to repair, so nobody was asked to approve anything.`,
            ),
          ]
        : [
            section(
              `:warning: *${o.remote}* has drift meshops cannot repair now, so nobody was asked to approve anything.`,
            ),
            ...linesToSections(
              capped(
                o.left,
                MAX_LIST_LINES,
                (n) => `…and ${n} more (\`/mesh status ${o.remote}\` lists them)`,
              ),
              '*Left for you*\n',
            ),
          ];
    case 'not-requested':
      return [
        section(`:no_entry: *${repairTitle(o.remote)}*: ${o.reason}`),
        ...(o.checks.length > 0 ? linesToSections(checkLines(o.checks), '*Pre-flight*\n') : []),
      ];
  }
}

/** The thread reply to `/mesh repair drift [remote]`: one part per remote. */
export function renderRepairReply(outcomes: readonly RemoteOutcome[]): JobResult {
  const verdict: JobResult['verdict'] = outcomes.some((o) => o.kind === 'not-requested')
    ? 'failed'
    : outcomes.some((o) => o.kind === 'nothing' && o.left.length > 0)
      ? 'degraded'
      : outcomes.some((o) => o.kind === 'requested')
        ? 'info'
        : 'healthy';
  const summary = outcomes.map(outcomeSummary).join('; ') || 'no remote cluster is configured';
  const blocks = outcomes.flatMap(outcomeBlocks);
  const awaiting = outcomes.flatMap((o) => (o.kind === 'requested' ? [o.request.id] : []));
  return {
    verdict,
    summary,
    text: `Repair drift: ${summary}`,
    blocks: blocks.length > 0 ? blocks : [section(`:information_source: ${summary}: nothing to repair.`)],
    ...(awaiting.length > 0 ? { awaiting } : {}),
  };
}

/** The progress message of a rolling restart, updated in place as each Deployment rolls. */
export function renderProgress(
  remote: string,
  steps: readonly RolloutStep[],
): { text: string; blocks: KnownBlock[] } {
  const done = steps.filter((s) => s.state === 'ready').length;
  const text = `Rolling restart on ${remote}: ${done} of ${steps.length} Deployments ready`;
  return {
    text,
    blocks: [
      section(`:arrows_counterclockwise: *${text}* (one at a time)`),
      ...linesToSections(stepLines(steps)),
    ],
  };
}

function verificationHealth(v: Verification): Health {
  return worstHealth([
    v.status.ok ? v.status.report.health : 'failed',
    v.vpn.ok ? v.vpn.report.verdict : 'failed',
  ]);
}

export function renderVerification(v: Verification): { text: string; blocks: KnownBlock[] } {
  const verdict = verificationHealth(v);
  const what = v.after === 'repair' ? 'the repair' : 'the restart';
  const headline =
    verdict === 'healthy'
      ? `:white_check_mark: *${v.remote} after ${what}*: healthy — the status and VPN checks find nothing left to do.`
      : `${VERDICT_ICON[verdict]} *${v.remote} after ${what}*: still ${verdict}. What is left is below.`;
  const statusLine = v.status.ok
    ? `${VERDICT_ICON[v.status.report.health]} *Status of ${v.remote}*: ${v.status.report.health} — ${v.status.summary}`
    : `${VERDICT_ICON.failed} *Status of ${v.remote}*: the check could not run: ${v.status.reason}`;
  const vpnLine = v.vpn.ok
    ? `${VERDICT_ICON[v.vpn.report.verdict]} *VPN ${v.remote} → ${v.primary}*: ${v.vpn.report.verdict} — ${v.vpn.report.summary}`
    : `${VERDICT_ICON.failed} *VPN ${v.remote} → ${v.primary}*: the check could not run: ${v.vpn.reason}`;
  const left = [
    ...(v.status.ok
      ? v.status.report.findings
          .filter((f) => f.severity !== 'info')
          .map((f) => `• ${f.text}${f.action ? ` → ${f.action}` : ''}`)
      : []),
    ...(v.vpn.ok
      ? v.vpn.report.findings
          .filter((f) => f.severity !== 'info')
          .map((f) => `• ${f.text}${f.action ? ` → ${f.action}` : ''}`)
      : []),
  ];
  const blocks: KnownBlock[] = [section(headline), section(`${statusLine}\n${vpnLine}`)];
  if (left.length > 0) blocks.push(...linesToSections(left, '*What is left*\n'));
  if (v.pods) {
    blocks.push(...linesToSections(v.pods.lines, '*Injected pods still holding old addresses*\n'));
    blocks.push(section(v.pods.offer));
  }
  blocks.push(
    context(
      `Checked after ${what} on ${v.remote} · \`/mesh status ${v.remote}\` and \`/mesh vpn\` run the same checks`,
    ),
  );
  return { text: `${v.remote} after ${what}: ${verdict}`, blocks };
}
