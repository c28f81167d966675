import { randomBytes } from 'node:crypto';
import { auditOf } from '../access/audit.ts';
import { createLocks } from '../access/locks.ts';
import { utcText } from '../chat/mrkdwn.ts';
import type { ApprovalInput, ApprovalRequest, Approvals, RequestOutcome } from '../mesh/change.ts';
import type { ApprovalView, Speaker } from './messages.ts';
import { approvalStore } from './store.ts';
import { type ApprovalDeps, EXPIRE_ACTION, TERMINAL } from './types.ts';

const reasonOf = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? String(err);

/** Locks outlive the request by one job timeout, so the expiry job (not the TTL) is what releases them. */
export const pendingLockMs = (deps: ApprovalDeps) =>
  deps.config.access.approvalTtl + deps.config.jobs.timeout + 60_000;
export const applyingLockMs = (deps: ApprovalDeps) => 2 * deps.config.jobs.timeout + 60_000;

/** "held by <@U…>'s request … (pending until …)" for a lock conflict, read from the holder's request. */
async function holderText(s: Speaker, holderId: string): Promise<{ stale: boolean; text: string }> {
  const holder = await approvalStore(s.deps).get(holderId);
  if (!holder || TERMINAL.includes(holder.status.state)) return { stale: true, text: '' };
  const { request, status } = holder;
  const until =
    status.state === 'applying'
      ? `being applied now (approved by ${s.view.who(status.decidedBy ?? '?')})`
      : `waiting for approval until ${s.view.when(request.expiresAt)}`;
  return {
    stale: false,
    text: `${s.view.who(request.requester)}'s request "${request.title}" (${request.id}), ${until}`,
  };
}

/** "; triggered by U…" for the audit: who made a request happen besides its requester. */
const triggerText = (input: Pick<ApprovalInput, 'triggeredBy'>) =>
  input.triggeredBy?.length ? `; triggered by ${input.triggeredBy.join(', ')}` : '';

/** Locks the targets, records the request, posts the approval message and schedules its expiry. */
export async function requestApproval<P>(
  deps: ApprovalDeps,
  view: ApprovalView,
  input: ApprovalInput<P>,
): Promise<RequestOutcome<P>> {
  const s: Speaker = { deps, view, audit: auditOf(deps) };
  const store = approvalStore(deps);
  const locks = createLocks(deps.redis, deps.prefix);
  const now = Date.now();
  const request: ApprovalRequest<P> = {
    ...input,
    id: `ap-${randomBytes(5).toString('hex')}`,
    createdAt: now,
    expiresAt: now + deps.config.access.approvalTtl,
  };
  const keys = input.locks.map((l) => l.key);
  let taken = await locks.acquire(keys, request.id, pendingLockMs(deps));
  let holder = taken.ok ? undefined : await holderText(s, taken.holder);
  if (!taken.ok && holder?.stale) {
    // A lock whose request has ended (a worker died before releasing it) is stale: free it and try once more.
    await locks.release([taken.target], taken.holder);
    taken = await locks.acquire(keys, request.id, pendingLockMs(deps));
    holder = taken.ok ? undefined : await holderText(s, taken.holder);
  }
  if (!taken.ok) {
    const target = input.locks.find((l) => l.key === taken.target)?.label ?? taken.target;
    const reason = `${target} is locked by ${holder?.text || `request ${taken.holder}`}. Wait for it to be decided, or ask an approver to reject it.`;
    await s.audit.record({
      action: 'refused',
      who: input.requester,
      kind: input.kind,
      subject: input.subject,
      planHash: input.planHash,
      result: `not requested: ${reason}`,
    });
    return { ok: false, reason };
  }

  await store.create(request);
  let messageTs: string;
  try {
    messageTs = (
      await deps.reply.post({ channel: input.channel, ...view.message(request, { state: 'pending' }) })
    ).ts;
  } catch (err) {
    const outcome = `the approval message could not be posted: ${reasonOf(err)}`;
    await store.transition(request.id, 'pending', 'failed', { by: 'meshops', outcome });
    await locks.release(keys, request.id);
    await s.audit.record({
      action: 'failed',
      who: input.requester,
      kind: input.kind,
      subject: input.subject,
      request: request.id,
      planHash: input.planHash,
      result: outcome,
    });
    throw err;
  }
  await store.setMessageTs(request.id, messageTs);
  try {
    await deps.enqueue(
      {
        type: 'action',
        action: EXPIRE_ACTION,
        value: request.id,
        user: 'meshops',
        channel: input.channel,
        messageTs,
        actionTs: `expire-${request.id}`,
        requestedAt: now,
      },
      { delayMs: deps.config.access.approvalTtl, jobId: `expire-${request.id}` },
    );
  } catch (err) {
    // A late click still finds the request expired; only the message would not say so by itself.
    deps.log.warn({ err, request: request.id }, 'could not schedule the approval expiry');
  }
  await s.audit.record({
    action: 'requested',
    who: input.requester,
    kind: input.kind,
    subject: input.subject,
    request: request.id,
    planHash: input.planHash,
    diff: input.diff,
    result: `pending until ${utcText(request.expiresAt)}${triggerText(input)}`,
  });
  return { ok: true, request, messageTs };
}

/** The Approvals port the domain asks through, bound to one job's deps and the chat surface's view. */
export function approvalsFor(deps: ApprovalDeps, view: ApprovalView): Approvals {
  return { request: (input) => requestApproval(deps, view, input) };
}
