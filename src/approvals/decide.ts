import { createLocks, type Locks } from '../access/locks.ts';
import type { ApplyResult, ApprovalRequest, FollowUp, RecheckResult } from '../mesh/change.ts';
import type { ActionJob } from '../queue/jobs.ts';
import { postDecision, refuse, type Speaker, stateText, updateMessage } from './messages.ts';
import { applyingLockMs } from './request.ts';
import { type ApprovalStore, approvalStore } from './store.ts';
import type { ApprovalStatus, ChangeKind, Decision } from './types.ts';

/**
 * The state machine of a request, for every change kind alike:
 *
 *   pending ──approve──▶ applying ──▶ applied | refused (live state moved) | failed
 *      │  └──reject───▶ rejected
 *      └──expiry──────▶ expired
 *
 * - only `access.approvers` decide, never the requester; every refusal goes to the clicker as an ephemeral
 *   message with the reason, and into the audit stream;
 * - the move out of pending is an atomic claim in Redis, so two clicks, two approvers, a retried job or a
 *   second worker apply a request exactly once;
 * - an approved request is re-checked against the live state before it is applied;
 * - once concluded, the message loses its buttons and says who requested, approved and applied it when, the
 *   locks are released, the audit records it, and then the change kind's afterDecision hook runs.
 */

export type Kinds = ReadonlyMap<string, ChangeKind<unknown, unknown, unknown>>;

interface Machine extends Speaker {
  store: ApprovalStore;
  locks: Locks;
  kinds: Kinds;
}

export function machineOf(s: Speaker, kinds: Kinds): Machine {
  return { ...s, store: approvalStore(s.deps), locks: createLocks(s.deps.redis, s.deps.prefix), kinds };
}

const reasonOf = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? String(err);

const release = (m: Machine, request: ApprovalRequest) =>
  m.locks.release(
    request.locks.map((l) => l.key),
    request.id,
  );

/** Runs the change kind's hook once a request is concluded; its failure is logged, the decision stands. */
async function concluded(m: Machine, request: ApprovalRequest, decision: Decision): Promise<void> {
  const hook = m.kinds.get(request.kind)?.afterDecision;
  if (!hook) return;
  try {
    await hook(request, decision, m.deps);
  } catch (err) {
    m.deps.log.warn({ err, request: request.id, state: decision.state }, 'the afterDecision hook failed');
  }
}

/** Ends a pending request that is past its time: message, locks, audit. Safe to call from several places. */
async function expire(
  m: Machine,
  request: ApprovalRequest,
  messageTs: string,
  alreadyMarked: boolean,
): Promise<boolean> {
  if (!alreadyMarked) {
    const t = await m.store.transition(request.id, 'pending', 'expired', { by: 'meshops', expiry: 'due' });
    if (!t.ok) return false;
  }
  await release(m, request);
  await updateMessage(
    m,
    request,
    { state: 'expired', decidedBy: 'meshops', decidedAt: Date.now() },
    messageTs,
  );
  await m.audit.record({
    action: 'expired',
    who: 'meshops',
    kind: request.kind,
    subject: request.subject,
    request: request.id,
    planHash: request.planHash,
    result: `nobody approved within ${Math.round(m.deps.config.access.approvalTtl / 60_000)} min`,
  });
  await concluded(m, request, { state: 'expired', messageTs });
  return true;
}

/**
 * Checks that `job.user` may decide the request now and moves it out of pending (to applying or rejected).
 * The move is the claim: of every click, retry and worker racing here, exactly one wins; the others are told why not.
 */
async function claimPending(
  m: Machine,
  job: ActionJob,
  verb: 'approve' | 'reject',
): Promise<{ request: ApprovalRequest; messageTs: string } | undefined> {
  const { view } = m;
  const found = await m.store.get(job.value);
  if (!found) {
    await refuse(m, job, `This approval request (${job.value}) no longer exists; nothing was changed.`);
    return undefined;
  }
  const { request, status } = found;
  const messageTs = status.messageTs ?? job.messageTs;
  if (status.state !== 'pending') {
    await refuse(
      m,
      job,
      `You cannot ${verb} "${request.title}": it was ${stateText(view, status)}.`,
      request,
    );
    return undefined;
  }
  if (Date.now() >= request.expiresAt) {
    await expire(m, request, messageTs, false);
    await refuse(
      m,
      job,
      `"${request.title}" expired at ${view.when(request.expiresAt)}; ${view.who(request.requester)} can request it again.`,
      request,
    );
    return undefined;
  }
  if (job.user === request.requester) {
    await refuse(
      m,
      job,
      `Four eyes: you requested "${request.title}", so someone else in access.approvers must ${verb} it.`,
      request,
    );
    return undefined;
  }
  if (!(await m.deps.permissions.isApprover(job.user))) {
    await refuse(
      m,
      job,
      `Only approvers (access.approvers) may ${verb} "${request.title}"; you are not one.`,
      request,
    );
    return undefined;
  }
  const to = verb === 'approve' ? 'applying' : 'rejected';
  const claim = await m.store.transition(request.id, 'pending', to, { by: job.user, expiry: 'live' });
  if (!claim.ok) {
    if (claim.why === 'expired') await expire(m, request, messageTs, true);
    const now = claim.why === 'state' ? claim.status : { state: 'expired' as const };
    await refuse(m, job, `You cannot ${verb} "${request.title}": it was ${stateText(view, now)}.`, request);
    return undefined;
  }
  return { request, messageTs };
}

interface Ending {
  state: 'applied' | 'refused' | 'failed';
  summary: string;
  detail: string[];
  next?: string;
  followUp?: FollowUp;
}

async function finish(
  m: Machine,
  request: ApprovalRequest,
  messageTs: string,
  approver: string,
  end: Ending,
): Promise<void> {
  await m.store.transition(request.id, 'applying', end.state, { by: approver, outcome: end.summary });
  await release(m, request);
  const status: ApprovalStatus = {
    state: end.state,
    decidedBy: approver,
    decidedAt: Date.now(),
    outcome: end.summary,
    ...(end.next ? { next: end.next } : {}),
  };
  await updateMessage(m, request, status, messageTs);
  await postDecision(m, request, status, end.detail, messageTs);
  await m.audit.record({
    action: end.state,
    who: approver,
    kind: request.kind,
    subject: request.subject,
    request: request.id,
    planHash: request.planHash,
    diff: request.diff,
    result: end.summary,
  });
  await concluded(m, request, {
    state: end.state,
    messageTs,
    ...(end.followUp ? { followUp: end.followUp } : {}),
  });
}

/** Re-checks the approved request against the live state, then applies it; what happened, never a throw. */
async function recheckAndApply(m: Machine, request: ApprovalRequest, messageTs: string): Promise<Ending> {
  const kind = m.kinds.get(request.kind);
  if (!kind)
    return { state: 'failed', summary: `this worker cannot apply "${request.kind}" changes`, detail: [] };
  let check: RecheckResult;
  try {
    check = await kind.recheck(request, m.deps);
  } catch (err) {
    return {
      state: 'failed',
      summary: `the live state could not be re-checked: ${reasonOf(err)}`,
      detail: [],
    };
  }
  if (!check.ok)
    return {
      state: 'refused',
      summary: check.reason,
      detail:
        check.detail ??
        (check.next
          ? []
          : [
              `${m.view.who(request.requester)}, the change was not applied. Please request it again to see the new diff.`,
            ]),
      ...(check.next ? { next: check.next } : {}),
      ...(check.followUp ? { followUp: check.followUp } : {}),
    };
  let result: ApplyResult;
  try {
    result = await kind.apply(request, {
      ...m.deps,
      thread: { reply: m.deps.reply, channel: request.channel, ts: messageTs },
    });
  } catch (err) {
    m.deps.log.error({ err, request: request.id }, 'applying an approved change failed');
    result = { ok: false, summary: `applying failed: ${reasonOf(err)}`, detail: [] };
  }
  return {
    state: result.ok ? 'applied' : 'failed',
    summary: result.summary,
    detail: result.detail,
    ...(result.followUp ? { followUp: result.followUp } : {}),
  };
}

export async function approve(m: Machine, job: ActionJob): Promise<void> {
  const claimed = await claimPending(m, job, 'approve');
  if (!claimed) return;
  const { request, messageTs } = claimed;
  await m.locks.extend(
    request.locks.map((l) => l.key),
    request.id,
    applyingLockMs(m.deps),
  );
  await m.audit.record({
    action: 'approved',
    who: job.user,
    kind: request.kind,
    subject: request.subject,
    request: request.id,
    planHash: request.planHash,
    result: `approved; requested by ${request.requester}`,
  });
  await updateMessage(
    m,
    request,
    { state: 'applying', decidedBy: job.user, decidedAt: Date.now() },
    messageTs,
  );
  await finish(m, request, messageTs, job.user, await recheckAndApply(m, request, messageTs));
}

export async function reject(m: Machine, job: ActionJob): Promise<void> {
  const claimed = await claimPending(m, job, 'reject');
  if (!claimed) return;
  const { request, messageTs } = claimed;
  await release(m, request);
  await updateMessage(
    m,
    request,
    { state: 'rejected', decidedBy: job.user, decidedAt: Date.now() },
    messageTs,
  );
  await m.audit.record({
    action: 'rejected',
    who: job.user,
    kind: request.kind,
    subject: request.subject,
    request: request.id,
    planHash: request.planHash,
    result: `rejected; requested by ${request.requester}`,
  });
  await concluded(m, request, { state: 'rejected', messageTs });
}

/** The delayed job: a request still pending at its expiry ends as expired; anything else is left alone. */
export async function expireDue(m: Machine, job: ActionJob): Promise<void> {
  const found = await m.store.get(job.value);
  if (found?.status.state !== 'pending') return;
  const remaining = found.request.expiresAt - Date.now();
  if (remaining > 0) {
    // Ran early (clock skew between hosts): come back when it is due.
    await m.deps.enqueue(job, { delayMs: remaining, jobId: `expire-${found.request.id}-${Date.now()}` });
    return;
  }
  await expire(m, found.request, found.status.messageTs ?? job.messageTs, false);
}
