import { auditOf } from '../access/audit.ts';
import { type ActionJob, actionJobId, type MeshJob } from '../queue/jobs.ts';
import { approve, close, expireDue, type Kinds, machineOf, sweepApplying } from './decide.ts';
import type { ApprovalView } from './messages.ts';
import {
  APPROVE_ACTION,
  type ApprovalDeps,
  type ChangeKind,
  EXPIRE_ACTION,
  REJECT_ACTION,
  SWEEP_ACTION,
  WITHDRAW_ACTION,
} from './types.ts';

export type ApprovalAction = (job: ActionJob, deps: ApprovalDeps) => Promise<void>;

/** The Approve, Reject and Withdraw buttons and the expiry timer, for every registered change kind. */
export function approvalActions(
  kinds: readonly ChangeKind<unknown, unknown, unknown>[],
  view: ApprovalView,
): Record<string, ApprovalAction> {
  const byKind: Kinds = new Map(kinds.map((k) => [k.kind, k]));
  const machine = (deps: ApprovalDeps) => machineOf({ deps, view, audit: auditOf(deps) }, byKind);
  return {
    [APPROVE_ACTION]: (job, deps) => approve(machine(deps), job),
    [REJECT_ACTION]: (job, deps) => close(machine(deps), job, 'reject'),
    [WITHDRAW_ACTION]: (job, deps) => close(machine(deps), job, 'withdraw'),
    [EXPIRE_ACTION]: (job, deps) => expireDue(machine(deps), job),
    [SWEEP_ACTION]: (job, deps) => sweepApplying(machine(deps), job),
  };
}

/** An approve job that failed for good (stalled past BullMQ's limit, or threw) may have left its request "applying". */
export const mayLeaveApplying = (job: MeshJob): boolean =>
  job.type === 'action' && job.action === APPROVE_ACTION;

/** How often workers look for requests left "applying": well inside the applying lock (jobs.timeout × 2 + 60 s). */
export const APPROVAL_SWEEP_MS = 60_000;

/**
 * One sweep job; `actionTs` names it, so every worker queueing the same one (the same period) queues it once.
 * It is queued like a click, so the claim it puts on a request it takes over names it too.
 */
export function approvalSweepJob(actionTs: string, now: number): { job: ActionJob; jobId: string } {
  const job: ActionJob = {
    type: 'action',
    action: SWEEP_ACTION,
    value: '',
    user: 'meshops',
    channel: '-',
    messageTs: '-',
    actionTs,
    requestedAt: now,
  };
  return { job, jobId: actionJobId(job) };
}
