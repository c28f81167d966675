import type { KnownBlock } from '@slack/types';
import type { ApprovalView } from '../../approvals/messages.ts';
import {
  APPROVE_ACTION,
  type ApprovalStatus,
  REJECT_ACTION,
  WITHDRAW_ACTION,
} from '../../approvals/types.ts';
import { dateRef, plural, userRef } from '../../chat/mrkdwn.ts';
import type { ApprovalCheck, ApprovalRequest } from '../../mesh/change.ts';
import type { ParentHead } from '../../queue/parent.ts';
import { actions, button, clip, context, header, linesToSections, section } from './blocks.ts';
import { decidedMessage } from './parent.ts';

/** The approval message for any change kind, in every state it goes through, and its thread replies. */

const CHECK_ICON: Record<ApprovalCheck['level'], string> = {
  ok: ':white_check_mark:',
  warn: ':warning:',
  fail: ':x:',
};

// A diff longer than this many sections stays in the audit log and the requester's thread.
const MAX_DIFF_SECTIONS = 6;

export const when = dateRef;

/** A Slack user as a mention; meshops itself (or its scheduled runs) by name. */
export const who = (user: string | undefined) => (user ? userRef(user) : 'meshops');

/** One line saying where the request stands; the first thing under the header once it is decided. */
export function statusLine(request: ApprovalRequest, status: ApprovalStatus): string {
  const at = status.decidedAt ? when(status.decidedAt) : '';
  const approver = who(status.decidedBy);
  switch (status.state) {
    case 'pending':
      return `:hourglass_flowing_sand: Waiting for approval until ${when(request.expiresAt)}`;
    case 'applying':
      return `:gear: Approved by ${approver} at ${at} — applying now`;
    case 'applied':
      return `:white_check_mark: *Applied* at ${at} — requested by ${who(request.requester)}, approved by ${approver}, applied by meshops${status.outcome ? `: ${clip(status.outcome, 500)}` : ''}`;
    case 'rejected':
      return `:no_entry_sign: *Rejected* by ${approver} at ${at}. Nothing was changed.`;
    case 'withdrawn':
      return `:leftwards_arrow_with_hook: *Withdrawn* by ${approver} at ${at}. Nothing was changed and the lock is released.`;
    case 'expired':
      return `:hourglass: *Expired* at ${at}: nobody approved it in time. Nothing was changed and the lock is released; ${who(request.requester)} can request it again.`;
    case 'refused':
      return `:no_entry: *Not applied* (approved by ${approver} at ${at}): ${clip(status.outcome ?? '', 800)}. ${status.next ?? `${who(request.requester)}, please request it again.`}`;
    case 'failed':
      return `:x: *Failed* (approved by ${approver} at ${at}): ${clip(status.outcome ?? '', 800)}`;
  }
}

const DECIDED: Record<Exclude<ApprovalStatus['state'], 'pending' | 'applying'>, string> = {
  applied: ':white_check_mark: *applied*',
  rejected: ':no_entry_sign: *rejected*',
  withdrawn: ':leftwards_arrow_with_hook: *withdrawn*',
  expired: ':hourglass: *expired*',
  refused: ':no_entry: *not applied*',
  failed: ':x: *failed*',
};

/** Where one request stands, as the parent of the command that made it says it. */
function parentLine(request: ApprovalRequest, status: ApprovalStatus): string {
  const at = status.decidedAt ? ` at ${when(status.decidedAt)}` : '';
  const by = status.decidedBy ? ` by ${who(status.decidedBy)}` : '';
  return status.state === 'pending' || status.state === 'applying'
    ? `:hourglass_flowing_sand: approval ${status.state === 'pending' ? 'requested' : `given${by}, applying`} (${request.id})`
    : status.state === 'expired'
      ? `${DECIDED.expired}${at}: nobody approved it in time (${request.id})`
      : status.state === 'applied' || status.state === 'refused' || status.state === 'failed'
        ? `${DECIDED[status.state]}: approved${by}${at} (${request.id})${status.state === 'applied' ? '' : ' — see the approval message'}`
        : `${DECIDED[status.state]}${by}${at} (${request.id})`;
}

/**
 * The command's parent once a request it made is decided: the verdict in one line (the detail is in the
 * approval), or one part per request, named by its subject, when the command made several.
 */
export function decidedParent(
  head: ParentHead,
  requests: readonly { request: ApprovalRequest; status: ApprovalStatus }[],
): { text: string; blocks: KnownBlock[] } {
  const lines = requests.map(({ request, status }) =>
    requests.length === 1
      ? parentLine(request, status)
      : `${request.subject}: ${parentLine(request, status)}`,
  );
  return decidedMessage(head.commandText, head.users, lines.join('; '));
}

export function diffSections(diff: string): KnownBlock[] {
  if (diff.trim() === '') return [section('*Diff*: none — the live state already matches')];
  const sections = linesToSections(diff.split('\n'), '```', '```');
  const shown = sections.slice(0, MAX_DIFF_SECTIONS);
  const out: KnownBlock[] = [section('*Diff* (live → requested)'), ...shown];
  if (sections.length > shown.length)
    out.push(
      context(
        `…${plural(sections.length - shown.length, 'more part')} of the diff ${sections.length - shown.length === 1 ? 'is' : 'are'} in the audit log (\`/mesh audit\`).`,
      ),
    );
  return out;
}

export function checkLines(checks: readonly ApprovalCheck[]): string[] {
  return checks.map((c) => `${CHECK_ICON[c.level]} ${c.text}`);
}

export function approvalMessage(
  request: ApprovalRequest,
  status: ApprovalStatus,
): { text: string; blocks: KnownBlock[] } {
  const pending = status.state === 'pending';
  const line = statusLine(request, status);
  const locks = request.locks.map((l) => l.label).join(', ');
  const blocks: KnownBlock[] = [
    header(pending ? `Approval needed: ${request.title}` : request.title),
    section(line),
    section(
      `*Requested by* ${who(request.requester)}${request.triggeredBy?.length ? ` (triggered by ${request.triggeredBy.map(who).join(', ')})` : ''} at ${when(request.createdAt)}`,
    ),
  ];
  if (request.effect.length > 0) blocks.push(...linesToSections(request.effect, '*Effect*\n'));
  blocks.push(...diffSections(request.diff));
  if (request.checks.length > 0)
    blocks.push(...linesToSections(checkLines(request.checks), '*Pre-flight*\n'));
  blocks.push(
    section(
      pending || status.state === 'applying'
        ? `*Lock* held on ${locks} until this request is decided or expires (${when(request.expiresAt)})`
        : `*Lock* on ${locks} released`,
    ),
    context(
      `${pending ? 'Only approvers (access.approvers) may approve or reject, never the requester or whoever triggered it; the requester may withdraw it · ' : ''}plan \`${request.planHash.slice(0, 12)}\` · request \`${request.id}\``,
    ),
  );
  if (pending)
    blocks.push(
      actions(
        button('Approve', APPROVE_ACTION, request.id, 'primary'),
        button('Reject', REJECT_ACTION, request.id, 'danger'),
        button('Withdraw', WITHDRAW_ACTION, request.id),
      ),
    );
  return { text: `${request.title}: ${line}`, blocks };
}

/** The thread reply under the approval message once the change is applied, refused or failed. */
export function decisionReply(
  request: ApprovalRequest,
  status: ApprovalStatus,
  detail: readonly string[],
): { text: string; blocks: KnownBlock[] } {
  const line = statusLine(request, status);
  return { text: line, blocks: [section(line), ...linesToSections(detail)] };
}

/** The approval workflow's messages in Slack. */
export const approvalView: ApprovalView = {
  message: approvalMessage,
  decision: decisionReply,
  parent: decidedParent,
  who,
  when,
};
