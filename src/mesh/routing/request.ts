import type { ApprovalCheck, ApprovalRequest, Approvals, Requester } from '../change.ts';
import { type NotProposed, type RoutingDeps, type RoutingRequest, routingChange } from './change.ts';
import type { Plan } from './plan.ts';
import type { TunnelProbe } from './preflight.ts';

export type RoutingOutcome =
  | { kind: 'requested'; title: string; plan: Plan; checks: ApprovalCheck[]; request: ApprovalRequest }
  | ({ kind: 'not-requested'; title: string } & NotProposed);

/**
 * The common path of `/mesh route apply` and `/mesh route rollback`: plan against the live primary,
 * pre-flight, then put the change up for approval. Nothing is written here.
 */
export async function requestRoutingChange(
  deps: RoutingDeps & { approvals: Approvals },
  who: Requester,
  change: RoutingRequest,
  tunnel?: TunnelProbe,
): Promise<RoutingOutcome> {
  const { title } = change;
  const planned = await routingChange.plan(
    { change, requester: who.requester, ...(tunnel ? { tunnel } : {}) },
    deps,
  );
  if (!planned.ok) {
    const { ok: _, ...why } = planned;
    return { kind: 'not-requested', title, ...why };
  }
  const { proposal } = planned;
  const outcome = await deps.approvals.request({ ...proposal, ...who });
  if (!outcome.ok)
    return {
      kind: 'not-requested',
      title,
      reason: `not requested: ${outcome.reason}`,
      checks: proposal.checks,
      verdict: 'failed',
    };
  return { kind: 'requested', title, plan: planned.plan, checks: proposal.checks, request: outcome.request };
}
