import { approvalStore } from '../approvals/store.ts';
import type { ApprovalDeps, ApprovalStatus, Decision } from '../approvals/types.ts';
import type { ReplyPort } from '../chat/reply.ts';
import type { ApprovalRequest, Requester } from '../mesh/change.ts';
import { stalePodLines } from '../mesh/repair/describe.ts';
import { planRemote } from '../mesh/repair/live.ts';
import {
  proposeRepair,
  REPAIR_KIND,
  type RepairPayload,
  type RestartPayload,
  requestRestart,
  SCHEDULED_REQUESTER,
} from '../mesh/repair/request.ts';
import type { RolloutStep } from '../mesh/repair/rollout-state.ts';
import { checkRemote, type Verification } from '../mesh/repair/verify.ts';
import { section } from '../slack/render/blocks.ts';
import { renderProgress, renderVerification } from '../slack/render/repair.ts';
import type { ActionHandler, JobContext } from './types.ts';

/**
 * What happens after an approved drift step, as jobs of their own queued once the approval is concluded
 * (message updated, lock released): verify the remote and offer the restart, or re-plan a plan that went
 * stale. Neither is a button: like the approval expiry, they are action jobs only meshops queues.
 */

export const VERIFY_ACTION = 'mesh.drift-verify';
export const REPLAN_ACTION = 'mesh.drift-replan';

type DriftRequest = ApprovalRequest<RepairPayload | RestartPayload>;

/** The drift kinds' afterDecision hook: queues the follow-up that recheck or apply asked for. */
export async function afterDriftDecision(
  request: DriftRequest,
  decision: Decision,
  deps: ApprovalDeps,
): Promise<void> {
  if (!decision.followUp) return;
  const step = decision.followUp;
  const { remote } = request.payload;
  try {
    await deps.enqueue(
      {
        type: 'action',
        action: step === 'verify' ? VERIFY_ACTION : REPLAN_ACTION,
        value: request.id,
        user: 'meshops',
        channel: request.channel,
        messageTs: decision.messageTs,
        actionTs: `${step}-${request.id}`,
        requestedAt: Date.now(),
      },
      { jobId: `drift-${step}-${request.id}` },
    );
  } catch (err) {
    deps.log.warn({ err, request: request.id, step }, 'could not queue the follow-up of a drift repair');
    const text =
      step === 'verify'
        ? `:warning: The verification could not be queued: run \`/mesh status ${remote}\` and \`/mesh vpn\` to verify it.`
        : `:warning: The re-plan could not be queued: \`/mesh repair drift ${remote}\` plans it again.`;
    await deps.reply
      .post({ channel: request.channel, thread_ts: decision.messageTs, text, blocks: [section(text)] })
      .catch((e: unknown) => deps.log.warn({ err: e }, 'could not say the follow-up was not queued'));
  }
}

/** Shows a rolling restart's progress in the approval's thread: one message, updated as each step moves. */
export function restartProgress(
  thread: { reply: ReplyPort; channel: string; ts: string },
  remote: string,
  log: JobContext['log'],
): (steps: readonly RolloutStep[]) => Promise<void> {
  let progressTs: string | undefined;
  return async (steps) => {
    const message = { channel: thread.channel, ...renderProgress(remote, steps) };
    try {
      if (progressTs) await thread.reply.update({ ...message, ts: progressTs });
      else progressTs = (await thread.reply.post({ ...message, thread_ts: thread.ts })).ts;
    } catch (err) {
      log.warn({ err, remote }, 'could not post the restart progress');
    }
  };
}

/** After the configuration repair: which pods still hold old addresses, and the restart offered for them. */
/**
 * A follow-up is requested as its origin was: the same requester, and whoever triggered that. When no person
 * requested the origin (an unattended scheduled run), its approver triggered the follow-up, so one approver
 * cannot carry a whole repair alone.
 */
function followUpOf(request: ApprovalRequest, status: ApprovalStatus, threadTs: string): Requester {
  const unattended = request.requester === SCHEDULED_REQUESTER && status.decidedBy;
  const triggeredBy = [...(request.triggeredBy ?? []), ...(unattended ? [status.decidedBy!] : [])];
  return {
    requester: request.requester,
    ...(triggeredBy.length > 0 ? { triggeredBy: [...new Set(triggeredBy)] } : {}),
    channel: request.channel,
    threadTs,
  };
}

async function podsAfterRepair(
  ctx: JobContext,
  request: ApprovalRequest<RepairPayload>,
  status: ApprovalStatus,
  threadTs: string,
): Promise<Verification['pods']> {
  const { remote } = request.payload;
  const planned = await planRemote(ctx, remote);
  if (!planned.ok)
    return {
      lines: [],
      offer: `The pods still holding old addresses could not be listed: ${planned.reason}`,
    };
  if (planned.repair.edits.length > 0)
    return {
      lines: [],
      offer: `:warning: the configuration on ${remote} drifted again since the repair; \`/mesh repair drift ${remote}\` plans a new one.`,
    };
  const { restart } = planned;
  const lines = stalePodLines(restart);
  if (lines.length === 0) return undefined;
  if (restart.targets.length === 0)
    return { lines, offer: 'meshops restarts only Deployments, so these are left for you.' };
  const who = followUpOf(request, status, threadTs);
  const outcome = await requestRestart(ctx, who, planned);
  const deployments = restart.targets.map((t) => `\`${t.namespace}/${t.name}\``).join(', ');
  return {
    lines,
    offer:
      outcome.kind === 'requested'
        ? `:raised_hand: A rolling restart of ${deployments}, one at a time, waits for approval: request \`${outcome.request.id}\` (its message is in this channel).`
        : `No restart was requested: ${outcome.kind === 'not-requested' ? outcome.reason : 'nothing to restart'}.`,
  };
}

/** The concluded request a follow-up is about; it was queued after the conclusion, so no waiting. */
async function concludedRequest(ctx: JobContext, id: string) {
  const found = await approvalStore(ctx).get(id);
  if (!found) ctx.log.warn({ request: id }, 'the request of a drift follow-up is gone');
  return found;
}

const verify: ActionHandler = async (job, ctx) => {
  const found = await concludedRequest(ctx, job.value);
  if (!found) return;
  const { request, status } = found;
  const threadTs = status.messageTs ?? job.messageTs;
  const payload = request.payload as RepairPayload | RestartPayload;
  const pods =
    request.kind === REPAIR_KIND && status.state === 'applied'
      ? await podsAfterRepair(ctx, request as ApprovalRequest<RepairPayload>, status, threadTs)
      : undefined;
  const checked = await checkRemote(ctx, payload.remote);
  const verification: Verification = {
    remote: payload.remote,
    primary: ctx.clusters.primary.name,
    after: request.kind === REPAIR_KIND ? 'repair' : 'restart',
    ...checked,
    ...(pods ? { pods } : {}),
  };
  await ctx.reply.post({
    channel: request.channel,
    thread_ts: threadTs,
    ...renderVerification(verification),
  });
};

const replan: ActionHandler = async (job, ctx) => {
  const found = await concludedRequest(ctx, job.value);
  if (!found) return;
  const { request, status } = found;
  const threadTs = status.messageTs ?? job.messageTs;
  const { remote } = request.payload as RepairPayload | RestartPayload;
  const outcome = await proposeRepair(ctx, followUpOf(request, status, threadTs), remote);
  const text =
    outcome.kind === 'requested'
      ? `:arrows_counterclockwise: Re-planned against the live state of ${remote}: the new plan waits for approval as request \`${outcome.request.id}\` (its message is in this channel).`
      : outcome.kind === 'nothing'
        ? `:arrows_counterclockwise: Re-planned against the live state of ${remote}: ${outcome.left.length === 0 ? 'nothing is left to repair' : `nothing meshops can repair now (${outcome.left.join('; ')})`}.`
        : `:arrows_counterclockwise: Re-planning ${remote} against the live state did not lead to a new request: ${outcome.reason}`;
  await ctx.reply.post({ channel: request.channel, thread_ts: threadTs, text, blocks: [section(text)] });
};

export const followUpActions: Record<string, ActionHandler> = {
  [VERIFY_ACTION]: verify,
  [REPLAN_ACTION]: replan,
};
