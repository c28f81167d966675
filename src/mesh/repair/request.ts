import { type LockTarget, requestApproval } from '../../approvals/decide.ts';
import type { JobContext } from '../../jobs/types.ts';
import {
  type RemoteOutcome,
  repairChecks,
  repairEffect,
  repairTitle,
  restartChecks,
  restartEffect,
  restartTitle,
} from '../../slack/render/repair.ts';
import { type Planned, planRemote } from './live.ts';
import type { Edit } from './plan.ts';
import type { RestartTarget } from './restart-plan.ts';

/**
 * Puts a remote's repair up for approval: the configuration first, then (once it points at the live
 * control plane) the rolling restart of pods injected with old addresses. Nothing is written here.
 */

export const REPAIR_KIND = 'drift-repair';
export const RESTART_KIND = 'drift-restart';

/** What an unattended scheduled run requests as: shown as such, never a Slack user. */
export const SCHEDULED_REQUESTER = 'meshops (scheduled)';

export interface RepairPayload {
  remote: string;
  /** The primary when planned; another primary by the time of approval refuses the apply. */
  primary: string;
  edits: Edit[];
}

export interface RestartPayload {
  remote: string;
  primary: string;
  targets: RestartTarget[];
}

/** Both steps of one remote hold the same lock: a remote is repaired by one request at a time. */
const remoteLock = (remote: string): LockTarget => ({
  key: `drift/${remote}`,
  label: `the control-plane addresses of ${remote}`,
});

const editBinding = (remote: string, e: { kind: string; namespace: string; name: string }) =>
  `${e.kind.toLowerCase()}/${remote}/${e.namespace}/${e.name}`;

export interface Requester {
  requester: string;
  /** Who else made the request happen; none of them may approve it (see ApprovalInput.triggeredBy). */
  triggeredBy?: string[];
  channel: string;
  /** Where the request came from (the command's parent, the scheduled post, the earlier approval). */
  threadTs?: string;
}

export type Ready = Extract<Planned, { ok: true }>;

async function requestRepair(ctx: JobContext, who: Requester, planned: Ready): Promise<RemoteOutcome> {
  const { repair } = planned;
  const remote = repair.remote;
  const effect = repairEffect(repair);
  const checks = repairChecks(repair, planned.problems);
  const payload: RepairPayload = { remote, primary: repair.primary, edits: repair.edits };
  const outcome = await requestApproval(ctx, {
    kind: REPAIR_KIND,
    ...who,
    title: repairTitle(remote),
    subject: remote,
    effect,
    diff: repair.diff,
    planHash: repair.hash,
    checks,
    locks: [remoteLock(remote)],
    bindings: repair.edits.map((e) => ({
      target: editBinding(remote, e),
      resourceVersion: e.resourceVersion,
    })),
    payload,
  });
  if (!outcome.ok)
    return { kind: 'not-requested', remote, reason: `not requested: ${outcome.reason}`, checks };
  return {
    kind: 'requested',
    step: 'repair',
    remote,
    request: outcome.request,
    effect,
    checks,
    diff: repair.diff,
  };
}

export async function requestRestart(
  ctx: JobContext,
  who: Requester,
  planned: Ready,
): Promise<RemoteOutcome> {
  const { restart } = planned;
  const remote = restart.remote;
  const effect = restartEffect(restart);
  const checks = restartChecks(restart);
  const payload: RestartPayload = { remote, primary: restart.primary, targets: restart.targets };
  const outcome = await requestApproval(ctx, {
    kind: RESTART_KIND,
    ...who,
    title: restartTitle(remote),
    subject: remote,
    effect,
    diff: restart.diff,
    planHash: restart.hash,
    checks,
    locks: [remoteLock(remote)],
    bindings: restart.targets.map((t) => ({
      target: editBinding(remote, { kind: 'Deployment', ...t }),
      resourceVersion: t.resourceVersion,
    })),
    payload,
  });
  if (!outcome.ok)
    return { kind: 'not-requested', remote, reason: `not requested: ${outcome.reason}`, checks };
  return {
    kind: 'requested',
    step: 'restart',
    remote,
    request: outcome.request,
    effect,
    checks,
    diff: restart.diff,
  };
}

/** The step a planned remote needs next: the configuration first, then the pods; undefined when neither. */
export function nextStep(planned: Ready): { step: 'repair' | 'restart'; hash: string } | undefined {
  if (planned.repair.edits.length > 0) return { step: 'repair', hash: planned.repair.hash };
  if (planned.restart.targets.length > 0) return { step: 'restart', hash: planned.restart.hash };
  return undefined;
}

/** Requests the next step of a planned remote, or says there is nothing (meshops can) repair. */
export async function requestNext(ctx: JobContext, who: Requester, planned: Ready): Promise<RemoteOutcome> {
  const next = nextStep(planned);
  if (next?.step === 'repair') return requestRepair(ctx, who, planned);
  if (next?.step === 'restart') return requestRestart(ctx, who, planned);
  return {
    kind: 'nothing',
    remote: planned.repair.remote,
    primary: planned.repair.primary,
    left: [
      ...planned.repair.skipped.map((s) => `${s.object} ${s.field} = \`${s.configured}\`: ${s.why}`),
      ...planned.restart.left.map((l) => `\`${l.pod}\`: ${l.why}`),
    ],
  };
}

/** Plans one remote from the live state and requests what it needs next. */
export async function proposeRepair(ctx: JobContext, who: Requester, remote: string): Promise<RemoteOutcome> {
  const planned = await planRemote(ctx, remote);
  if (!planned.ok) return { kind: 'not-requested', remote, reason: planned.reason, checks: [] };
  return requestNext(ctx, who, planned);
}
