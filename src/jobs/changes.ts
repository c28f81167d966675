import type { ApplyDeps, ChangeKind } from '../approvals/types.ts';
import type { ApprovalRequest } from '../mesh/change.ts';
import { driftRepairChange, driftRestartChange } from '../mesh/repair/change.ts';
import type { RestartPayload } from '../mesh/repair/request.ts';
import { routingChange } from '../mesh/routing/change.ts';
import { afterDriftDecision, restartProgress } from './drift-followup.ts';
import { afterRoutingDecision } from './route-verify.ts';

/**
 * Every change kind that goes through approval, as the workflow runs it. A new kind is its domain module
 * (plan, recheck, apply) plus one entry here, with the hooks that need the queue or the chat surface.
 */
const driftRestart = {
  ...driftRestartChange,
  apply: (request: ApprovalRequest<RestartPayload>, deps: ApplyDeps) =>
    driftRestartChange.apply(request, {
      ...deps,
      onStep: restartProgress(deps.thread, request.payload.remote, deps.log),
    }),
  afterDecision: afterDriftDecision,
};

export const changeKinds: readonly ChangeKind<unknown, unknown, unknown>[] = [
  // After an applied change: the verification window (readings, revert, chart).
  { ...routingChange, afterDecision: afterRoutingDecision },
  { ...driftRepairChange, afterDecision: afterDriftDecision },
  driftRestart,
];
