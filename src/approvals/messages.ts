import type { Audit } from '../access/audit.ts';
import type { Message } from '../chat/reply.ts';
import type { ApprovalRequest } from '../mesh/change.ts';
import type { ActionJob } from '../queue/jobs.ts';
import type { ParentHead } from '../queue/parent.ts';
import type { ApprovalDeps, ApprovalStatus } from './types.ts';

/**
 * What the workflow says, and to whom: the approval message in each state, its thread reply, and the
 * refusals the clicker alone sees. How it looks is the chat surface's (src/slack/render/approval.ts).
 */
export interface ApprovalView {
  /** The approval message for a request in `status`; Approve / Reject only while pending. */
  message(request: ApprovalRequest, status: ApprovalStatus): Message;
  /** The reply under the approval message once the change is applied, refused or failed. */
  decision(request: ApprovalRequest, status: ApprovalStatus, detail: readonly string[]): Message;
  /** The parent message of the command that made `requests`, once one of them is concluded. */
  parent(
    head: ParentHead,
    requests: readonly { request: ApprovalRequest; status: ApprovalStatus }[],
  ): Message;
  /** A user as the surface mentions them; meshops' own requests by name. */
  who(user: string | undefined): string;
  /** A time every reader sees in their own time zone. */
  when(ms: number): string;
}

/** The workflow's deps once resolved: the surface's view, the audit trail. */
export interface Speaker {
  deps: ApprovalDeps;
  view: ApprovalView;
  audit: Audit;
}

export async function updateMessage(
  s: Speaker,
  request: ApprovalRequest,
  status: ApprovalStatus,
  messageTs: string,
): Promise<void> {
  await s.deps.reply
    .update({ channel: request.channel, ts: messageTs, ...s.view.message(request, status) })
    .catch((err: unknown) =>
      s.deps.log.warn({ err, request: request.id }, 'could not update the approval message'),
    );
}

export async function postDecision(
  s: Speaker,
  request: ApprovalRequest,
  status: ApprovalStatus,
  detail: readonly string[],
  messageTs: string,
): Promise<void> {
  await s.deps.reply
    .post({ channel: request.channel, thread_ts: messageTs, ...s.view.decision(request, status, detail) })
    .catch((err: unknown) =>
      s.deps.log.warn({ err, request: request.id }, 'could not post the result in the thread'),
    );
}

/** Tells the clicker alone why their click changed nothing, and records the refusal. */
export async function refuse(
  s: Speaker,
  job: ActionJob,
  reason: string,
  request?: ApprovalRequest,
): Promise<void> {
  await s.deps.reply
    .ephemeral({ channel: job.channel, user: job.user, text: `:no_entry: ${reason}` })
    .catch((err: unknown) =>
      s.deps.log.warn({ err }, 'could not tell the clicker why the click was refused'),
    );
  await s.audit.record({
    action: 'refused',
    who: job.user,
    kind: request?.kind ?? 'approval',
    subject: request?.subject ?? job.value,
    ...(request ? { request: request.id, planHash: request.planHash } : {}),
    result: reason,
  });
}

/** Where a request stands, as the end of "You cannot approve …: it was …". */
export function stateText(view: ApprovalView, status: ApprovalStatus): string {
  const by = status.decidedBy && status.decidedBy !== 'meshops' ? ` by ${view.who(status.decidedBy)}` : '';
  const at = status.decidedAt ? ` at ${view.when(status.decidedAt)}` : '';
  switch (status.state) {
    case 'applying':
      return `already approved${by}${at} and being applied`;
    case 'applied':
      return `already approved${by} and applied${at}`;
    case 'rejected':
      return `already rejected${by}${at}`;
    case 'withdrawn':
      return `withdrawn${by}${at}`;
    case 'expired':
      return `expired${at}`;
    case 'refused':
      return `already approved${by}${at}, but not applied because the live state had changed`;
    case 'failed':
      return `already approved${by}${at}; applying it failed`;
    case 'pending':
      return 'still waiting for approval';
  }
}
