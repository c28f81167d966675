import type { Approvals, LockTarget, Proposal, Requester } from '../change.ts';
import {
  type RemoteOutcome,
  repairChecks,
  repairEffect,
  repairTitle,
  restartChecks,
  restartEffect,
  restartTitle,
} from './describe.ts';
import { type Planned, planRemote, type RepairDeps } from './live.ts';
import type { Edit } from './plan.ts';
import type { RestartTarget } from './restart-plan.ts';

/**
 * Puts a remote's repair up for approval: the configuration first, then (once it points at the live
 * control plane) the rolling restart of pods injected with old addresses. Nothing is written here.
 */

export const REPAIR_KIND = 'drift-repair';
export const RESTART_KIND = 'drift-restart';

/** What a scheduled health run requests as: shown as such, and never a Slack user, so any approver may decide. */
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

export type Ready = Extract<Planned, { ok: true }>;

/** Planning a remote and putting its next step up for approval. */
export type RequestDeps = RepairDeps & { approvals: Approvals };

function repairProposal(planned: Ready): Proposal<RepairPayload> {
  const { repair } = planned;
  const remote = repair.remote;
  return {
    kind: REPAIR_KIND,
    title: repairTitle(remote),
    subject: remote,
    effect: repairEffect(repair),
    diff: repair.diff,
    planHash: repair.hash,
    checks: repairChecks(repair, planned.problems),
    locks: [remoteLock(remote)],
    bindings: repair.edits.map((e) => ({
      target: editBinding(remote, e),
      resourceVersion: e.resourceVersion,
    })),
    payload: { remote, primary: repair.primary, edits: repair.edits },
  };
}

function restartProposal(planned: Ready): Proposal<RestartPayload> {
  const { restart } = planned;
  const remote = restart.remote;
  return {
    kind: RESTART_KIND,
    title: restartTitle(remote),
    subject: remote,
    effect: restartEffect(restart),
    diff: restart.diff,
    planHash: restart.hash,
    checks: restartChecks(restart),
    locks: [remoteLock(remote)],
    bindings: restart.targets.map((t) => ({
      target: editBinding(remote, { kind: 'Deployment', ...t }),
      resourceVersion: t.resourceVersion,
    })),
    payload: { remote, primary: restart.primary, targets: restart.targets },
  };
}

async function requestStep(
  deps: RequestDeps,
  who: Requester,
  step: 'repair' | 'restart',
  proposal: Proposal<RepairPayload | RestartPayload>,
): Promise<RemoteOutcome> {
  const { remote } = proposal.payload;
  const outcome = await deps.approvals.request({ ...proposal, ...who });
  if (!outcome.ok)
    return {
      kind: 'not-requested',
      remote,
      reason: `not requested: ${outcome.reason}`,
      checks: proposal.checks,
    };
  return {
    kind: 'requested',
    step,
    remote,
    request: outcome.request,
    effect: proposal.effect,
    checks: proposal.checks,
    diff: proposal.diff,
  };
}

export const requestRestart = (deps: RequestDeps, who: Requester, planned: Ready): Promise<RemoteOutcome> =>
  requestStep(deps, who, 'restart', restartProposal(planned));

/** The step a planned remote needs next: the configuration first, then the pods; undefined when neither. */
export function nextStep(planned: Ready): { step: 'repair' | 'restart'; hash: string } | undefined {
  if (planned.repair.edits.length > 0) return { step: 'repair', hash: planned.repair.hash };
  if (planned.restart.targets.length > 0) return { step: 'restart', hash: planned.restart.hash };
  return undefined;
}

export type DriftPlanned =
  | { ok: true; step: 'repair' | 'restart'; proposal: Proposal<RepairPayload | RestartPayload> }
  | { ok: false; outcome: RemoteOutcome };

/** The next step of a planned remote as a proposal, or what it came to when there is none. */
export function proposeNext(planned: Ready): DriftPlanned {
  const next = nextStep(planned);
  if (next?.step === 'repair') return { ok: true, step: 'repair', proposal: repairProposal(planned) };
  if (next?.step === 'restart') return { ok: true, step: 'restart', proposal: restartProposal(planned) };
  return {
    ok: false,
    outcome: {
      kind: 'nothing',
      remote: planned.repair.remote,
      primary: planned.repair.primary,
      left: [
        ...planned.repair.skipped.map((s) => `${s.object} ${s.field} = \`${s.configured}\`: ${s.why}`),
        ...planned.restart.left.map((l) => `\`${l.pod}\`: ${l.why}`),
      ],
    },
  };
}

/** The drift kinds' plan: one remote from its live state, as the proposal of its next step. Writes nothing. */
export async function planDrift(remote: string, deps: RepairDeps): Promise<DriftPlanned> {
  const planned = await planRemote(deps, remote);
  if (!planned.ok)
    return { ok: false, outcome: { kind: 'not-requested', remote, reason: planned.reason, checks: [] } };
  return proposeNext(planned);
}

/** Requests the next step of a planned remote, or says there is nothing (meshops can) repair. */
export async function requestNext(deps: RequestDeps, who: Requester, planned: Ready): Promise<RemoteOutcome> {
  const next = proposeNext(planned);
  return next.ok ? requestStep(deps, who, next.step, next.proposal) : next.outcome;
}

/** Plans one remote from the live state and requests what it needs next. */
export async function proposeRepair(
  deps: RequestDeps,
  who: Requester,
  remote: string,
): Promise<RemoteOutcome> {
  const next = await planDrift(remote, deps);
  return next.ok ? requestStep(deps, who, next.step, next.proposal) : next.outcome;
}
