import {
  type ApprovalRequest,
  type ApprovalState,
  type ApprovalStatus,
  approvalStore,
} from '../approvals/decide.ts';
import { planRemote } from '../mesh/repair/live.ts';
import {
  proposeRepair,
  REPAIR_KIND,
  type RepairPayload,
  type Requester,
  type RestartPayload,
  requestRestart,
  SCHEDULED_REQUESTER,
} from '../mesh/repair/request.ts';
import { checkRemote } from '../mesh/repair/verify.ts';
import { section } from '../slack/render/blocks.ts';
import { renderVerification, stalePodLines, type Verification } from '../slack/render/repair.ts';
import type { ActionHandler, JobContext } from './types.ts';

/**
 * What happens after an approved step, as jobs of their own so the approval is finished (message updated,
 * lock released) first: verify the remote and offer the restart, or re-plan a plan that went stale.
 * Neither is a button: like the approval expiry, they are action jobs only meshops queues.
 */

export const VERIFY_ACTION = 'mesh.drift-verify';
export const REPLAN_ACTION = 'mesh.drift-replan';

const DECIDING: readonly ApprovalState[] = ['pending', 'applying'];
const POLL_MS = 100;

/** Queues a follow-up of request `request`; false when it could not be queued (the caller says so). */
export async function enqueueFollowUp(
  ctx: JobContext,
  request: ApprovalRequest,
  action: typeof VERIFY_ACTION | typeof REPLAN_ACTION,
): Promise<boolean> {
  const found = await approvalStore(ctx).get(request.id);
  const step = action === VERIFY_ACTION ? 'verify' : 'replan';
  try {
    await ctx.enqueue(
      {
        type: 'action',
        action,
        value: request.id,
        user: 'meshops',
        channel: request.channel,
        messageTs: found?.status.messageTs ?? request.threadTs ?? request.id,
        actionTs: `${step}-${request.id}`,
        requestedAt: Date.now(),
      },
      { jobId: `drift-${step}-${request.id}` },
    );
    return true;
  } catch (err) {
    ctx.log.warn({ err, request: request.id, action }, 'could not queue the follow-up of a drift repair');
    return false;
  }
}

/** The request once its approval has finished (applied, refused, failed), waiting a bounded while for it. */
async function settled(
  ctx: JobContext,
  id: string,
): Promise<{ request: ApprovalRequest; status: ApprovalStatus } | undefined> {
  const deadline = Date.now() + Math.min(30_000, ctx.config.jobs.timeout / 2);
  for (;;) {
    const found = await approvalStore(ctx).get(id);
    if (!found) return undefined;
    if (!DECIDING.includes(found.status.state) || Date.now() > deadline || ctx.signal.aborted) return found;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

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

/** After the configuration repair: which pods still hold old addresses, and the restart offered for them. */
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
  const who: Requester = followUpOf(request, status, threadTs);
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

const verify: ActionHandler = async (job, ctx) => {
  const found = await settled(ctx, job.value);
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
  const found = await settled(ctx, job.value);
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
