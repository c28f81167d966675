import { auditOf } from '../access/audit.ts';
import type { ActionJob } from '../queue/jobs.ts';
import { approve, close, expireDue, type Kinds, machineOf } from './decide.ts';
import type { ApprovalView } from './messages.ts';
import {
  APPROVE_ACTION,
  type ApprovalDeps,
  type ChangeKind,
  EXPIRE_ACTION,
  REJECT_ACTION,
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
  };
}
