import { createLocks, type Locks } from '../access/locks.ts';
import type { ApplyResult, ApprovalRequest, FollowUp, RecheckResult } from '../mesh/change.ts';
import { type ActionJob, actionJobId } from '../queue/jobs.ts';
import { bullJobKey } from '../queue/runs.ts';
import { postDecision, refuse, type Speaker, stateText, updateMessage } from './messages.ts';
import { rewriteParent } from './parent.ts';
import { applyingLockMs } from './request.ts';
import { type ApprovalStore, applyProgress, approvalStore } from './store.ts';
import type { ApplyDeps, ApprovalStatus, ChangeKind, Decision } from './types.ts';

/**
 * The state machine of a request, for every change kind alike:
 *
 *   pending ──approve──▶ applying ──▶ applied | refused (live state moved) | failed
 *      │  │                 └── its job re-run after the worker died: resumed against the live state
 *      │  ├──reject───▶ rejected
 *      │  └──withdraw─▶ withdrawn (by the requester)
 *      └──expiry──────▶ expired
 *
 * - only `access.approvers` decide, never the requester nor whoever triggered the request; every refusal goes to the clicker as an ephemeral
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

/**
 * The command's parent message stops saying "waiting for an approver": it shows the decision, and where each
 * other request the same command made stands. The decision stands whether or not Slack took the update.
 */
async function updateParent(m: Machine, request: ApprovalRequest): Promise<void> {
  if (!request.threadTs) return;
  await rewriteParent(
    m.deps,
    m.view,
    { channel: request.channel, ts: request.threadTs },
    { requestId: request.id },
  ).catch((err: unknown) =>
    m.deps.log.warn({ err, request: request.id }, 'could not update the parent message'),
  );
}

/** Runs the change kind's hook once a request is concluded; its failure is logged, the decision stands. */
async function concluded(m: Machine, request: ApprovalRequest, decision: Decision): Promise<void> {
  await updateParent(m, request);
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

type Verb = 'approve' | 'reject' | 'withdraw';
const CLAIMED_STATE = { approve: 'applying', reject: 'rejected', withdraw: 'withdrawn' } as const;

/** The click whose job claimed a request for applying: a re-run of that same job resumes the apply. */
const claimOf = (job: ActionJob) => `${job.actionTs}/${job.user}`;

/** Why `user` may not approve or reject: four eyes (the requester, or whoever triggered it), or not an approver. */
async function decideRefusal(
  m: Machine,
  request: ApprovalRequest,
  user: string,
  verb: 'approve' | 'reject',
): Promise<string | undefined> {
  if (user === request.requester || request.triggeredBy?.includes(user)) {
    const why = user === request.requester ? 'requested' : 'triggered';
    return `Four eyes: you ${why} "${request.title}", so someone else in access.approvers must ${verb} it.`;
  }
  if (!(await m.deps.permissions.isApprover(user)))
    return `Only approvers (access.approvers) may ${verb} "${request.title}"; you are not one.`;
  return undefined;
}

/** Only the person who requested a change may take it back; approvers reject instead. */
function withdrawRefusal(m: Machine, request: ApprovalRequest, user: string): string | undefined {
  if (user === request.requester) return undefined;
  return `Only ${m.view.who(request.requester)}, who requested "${request.title}", may withdraw it; an approver may reject it.`;
}

/**
 * Checks that `job.user` may decide the request now and moves it out of pending (to applying or rejected).
 * The move is the claim: of every click, retry and worker racing here, exactly one wins; the others are told why not.
 */
async function claimPending(
  m: Machine,
  job: ActionJob,
  verb: Verb,
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
  const refusal =
    verb === 'withdraw'
      ? withdrawRefusal(m, request, job.user)
      : await decideRefusal(m, request, job.user, verb);
  if (refusal) {
    await refuse(m, job, refusal, request);
    return undefined;
  }
  const to = CLAIMED_STATE[verb];
  const claim = await m.store.transition(request.id, 'pending', to, {
    by: job.user,
    expiry: 'live',
    ...(to === 'applying' ? { claim: claimOf(job) } : {}),
  });
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

async function applyDepsOf(m: Machine, request: ApprovalRequest, messageTs: string): Promise<ApplyDeps> {
  return {
    ...m.deps,
    thread: { reply: m.deps.reply, channel: request.channel, ts: messageTs },
    progress: await applyProgress(m.deps, request.id),
  };
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
    result = await kind.apply(request, await applyDepsOf(m, request, messageTs));
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

/**
 * The same approval job run again on a request it left "applying" (its worker was killed; BullMQ hands the
 * stalled job to another worker): finish what the first run started, judged by what is live, or conclude it
 * failed, and say what was written either way.
 */
async function resumeApply(
  m: Machine,
  job: ActionJob,
  found: { request: ApprovalRequest; status: ApprovalStatus },
): Promise<void> {
  const { request, status } = found;
  const messageTs = status.messageTs ?? job.messageTs;
  const deps = await applyDepsOf(m, request, messageTs);
  m.deps.log.warn(
    { request: request.id, written: deps.progress.earlier.length },
    'an apply was interrupted (its worker stopped); resuming it against the live state',
  );
  await m.locks.extend(
    request.locks.map((l) => l.key),
    request.id,
    applyingLockMs(m.deps),
  );
  const earlier =
    deps.progress.earlier.length > 0
      ? `written before: ${deps.progress.earlier.join('; ')}`
      : 'nothing was recorded as written';
  const kind = m.kinds.get(request.kind);
  let result: ApplyResult;
  try {
    if (kind?.resume) result = await kind.resume(request, deps);
    else {
      const check: RecheckResult = kind
        ? await kind.recheck(request, m.deps)
        : { ok: false, reason: `this worker cannot apply "${request.kind}" changes` };
      // Unchanged bindings mean the stopped run wrote nothing: applying now is the apply that was approved.
      result =
        kind && check.ok
          ? await kind.apply(request, deps)
          : {
              ok: false,
              summary: `the worker applying it stopped, and the live state no longer matches the plan (${check.ok ? '' : check.reason}); it was not finished`,
              detail: [`Check the live state before requesting it again (${earlier}).`],
            };
    }
  } catch (err) {
    m.deps.log.error({ err, request: request.id }, 'resuming an interrupted apply failed');
    result = {
      ok: false,
      summary: `resuming the interrupted apply failed: ${reasonOf(err)}`,
      detail: [earlier],
    };
  }
  await finish(m, request, messageTs, status.decidedBy ?? job.user, {
    state: result.ok ? 'applied' : 'failed',
    summary: `${result.summary} (resumed after the worker applying it stopped)`,
    detail: result.detail,
    ...(result.followUp ? { followUp: result.followUp } : {}),
  });
}

/** True when the job named by an approval's claim will never run again: completed, failed for good, or removed. */
async function claimantGone(m: Machine, claim: string): Promise<boolean> {
  const slash = claim.indexOf('/');
  const key = bullJobKey(
    m.deps.prefix,
    actionJobId({ actionTs: claim.slice(0, slash), user: claim.slice(slash + 1) }),
  );
  const [exists, finished] = (await m.deps.redis.multi().exists(key).hexists(key, 'finishedOn').exec()) ?? [];
  return exists?.[1] === 0 || finished?.[1] === 1;
}

/**
 * The sweep (at worker start-up and periodically): a request left "applying" by an approval job that will never
 * run again (failed past BullMQ's stall limit, or removed) is taken over and resumed or concluded as its own
 * re-run would have, from the write-by-write record, instead of waiting for its locks to expire.
 */
export async function sweepApplying(m: Machine, job: ActionJob): Promise<void> {
  for (const id of await m.store.applying()) {
    try {
      const found = await m.store.get(id);
      const claim = found?.status.claim;
      if (found?.status.state !== 'applying' || !claim) continue;
      // A re-run of this sweep (its worker died while resuming) resumes what it took over, as an approve job's
      // re-run does; it never waits for itself to finish.
      if (claim !== claimOf(job)) {
        if (!(await claimantGone(m, claim))) continue;
        // One sweep of every worker's wins; a job that still holds the request keeps it.
        if (!(await m.store.reclaim(id, claim, claimOf(job)))) continue;
        m.deps.log.warn({ request: id, claim }, 'an apply was left by a job that will not run again');
      }
      await resumeApply(m, job, found);
    } catch (err) {
      m.deps.log.error({ err, request: id }, 'could not conclude a request left applying');
    }
  }
}

export async function approve(m: Machine, job: ActionJob): Promise<void> {
  const current = await m.store.get(job.value);
  if (current?.status.state === 'applying' && current.status.claim === claimOf(job)) {
    await resumeApply(m, job, current);
    return;
  }
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

/** Reject (an approver) or withdraw (the requester): nothing is changed and the locks are released. */
export async function close(m: Machine, job: ActionJob, verb: 'reject' | 'withdraw'): Promise<void> {
  const claimed = await claimPending(m, job, verb);
  if (!claimed) return;
  const { request, messageTs } = claimed;
  const state = CLAIMED_STATE[verb];
  await release(m, request);
  await updateMessage(m, request, { state, decidedBy: job.user, decidedAt: Date.now() }, messageTs);
  await m.audit.record({
    action: state,
    who: job.user,
    kind: request.kind,
    subject: request.subject,
    request: request.id,
    planHash: request.planHash,
    result: verb === 'reject' ? `rejected; requested by ${request.requester}` : 'withdrawn by the requester',
  });
  await concluded(m, request, { state, messageTs });
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
