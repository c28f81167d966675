import {
  type ApplyResult,
  type ApprovalRequest,
  approvalStore,
  type ChangeKind,
  type RecheckResult,
} from '../../approvals/decide.ts';
import { enqueueFollowUp, REPLAN_ACTION, VERIFY_ACTION } from '../../jobs/drift-followup.ts';
import type { JobContext } from '../../jobs/types.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { who } from '../../slack/render/approval.ts';
import { renderProgress, stepLines, writtenLines } from '../../slack/render/repair.ts';
import { planRemote } from './live.ts';
import { type Edit, objectLabel, planChanges } from './plan.ts';
import { REPAIR_KIND, RESTART_KIND, type RepairPayload, type RestartPayload } from './request.ts';
import { restartPlanChanges } from './restart-plan.ts';
import type { RolloutStep } from './rollout-state.ts';
import { rollingRestart, writeEdit } from './writes.ts';

/**
 * The two approval kinds of a drift repair: `drift-repair` writes the remote's configuration (the `istio`
 * ConfigMap and `istio-pilot` Endpoints, or the `istiod` EndpointSlice) at the bound resourceVersions;
 * `drift-restart` rolls the Deployments whose pods still hold old addresses, one at a time. A plan that
 * went stale is refused and re-planned; an applied one is verified, both as follow-up jobs.
 */

const REPLANNING =
  'meshops re-plans against the live state now; the new plan is posted for approval in this channel.';

function clustersFor(
  request: ApprovalRequest<RepairPayload | RestartPayload>,
  ctx: JobContext,
): Cluster | string {
  const { remote, primary } = request.payload;
  if (ctx.clusters.primary.name !== primary)
    return `the primary is now ${ctx.clusters.primary.name}, but the plan was made against ${primary}`;
  const cluster = ctx.clusters.get(remote);
  return cluster?.role === 'remote' ? cluster : `${remote} is no longer a configured remote cluster`;
}

/** Refuses a stale plan and has it re-planned, so the approver sees the new plan rather than a dead end. */
async function stale(
  ctx: JobContext,
  request: ApprovalRequest<RepairPayload | RestartPayload>,
  reason: string,
): Promise<RecheckResult> {
  const queued = await enqueueFollowUp(ctx, request, REPLAN_ACTION);
  return {
    ok: false,
    reason,
    next: queued
      ? REPLANNING
      : `${who(request.requester)}, the change was not applied; \`/mesh repair drift ${request.payload.remote}\` plans it again.`,
  };
}

async function recheckRepair(
  request: ApprovalRequest<RepairPayload>,
  ctx: JobContext,
): Promise<RecheckResult> {
  const where = clustersFor(request, ctx);
  if (typeof where === 'string') return { ok: false, reason: where };
  const fresh = await planRemote(ctx, request.payload.remote);
  if (!fresh.ok) return { ok: false, reason: fresh.reason };
  const rv = new Map(fresh.objects.map((o) => [objectLabel(o), o.resourceVersion]));
  const moved = request.payload.edits.flatMap((e) => {
    const now = rv.get(objectLabel(e));
    return now === e.resourceVersion
      ? []
      : [`${objectLabel(e)} (resourceVersion ${e.resourceVersion} → ${now ?? 'deleted'})`];
  });
  if (moved.length > 0)
    return stale(
      ctx,
      request,
      `${moved.join(', ')} on ${request.payload.remote} changed since the plan, so the approved diff no longer describes what would happen`,
    );
  if (fresh.repair.hash !== request.planHash)
    return stale(
      ctx,
      request,
      `the live control plane moved since the plan: ${planChanges(request.payload.edits, fresh.repair.edits)}`,
    );
  return { ok: true };
}

async function applyRepair(request: ApprovalRequest<RepairPayload>, ctx: JobContext): Promise<ApplyResult> {
  const where = clustersFor(request, ctx);
  if (typeof where === 'string') return { ok: false, summary: where, detail: [] };
  const { remote, primary, edits } = request.payload;
  const done: { edit: Edit; resourceVersion: string }[] = [];
  for (const edit of edits) {
    try {
      done.push({ edit, resourceVersion: await writeEdit(where, edit, ctx.config.checks.clusterTimeout) });
    } catch (err) {
      const failure = classifyKubeError(err, ctx.config.checks.clusterTimeout);
      const wrote =
        done.length > 0 ? ['Already written:', ...writtenLines(remote, done)] : ['Nothing was written.'];
      if (failure.kind !== 'conflict')
        return {
          ok: false,
          summary: `${objectLabel(edit)} on ${remote} could not be written: ${failure.reason}`,
          detail: wrote,
        };
      const queued = await enqueueFollowUp(ctx, request, REPLAN_ACTION);
      return {
        ok: false,
        summary: `409 Conflict on ${objectLabel(edit)}: it changed on ${remote} while applying; it was not overwritten`,
        detail: [...wrote, queued ? REPLANNING : `\`/mesh repair drift ${remote}\` plans it again.`],
      };
    }
  }
  const queued = await enqueueFollowUp(ctx, request, VERIFY_ACTION);
  return {
    ok: true,
    summary: `${remote} points at the live control plane on ${primary} again (${edits.map(objectLabel).join(', ')})`,
    detail: [
      ...writtenLines(remote, done),
      queued
        ? `Next, in this thread: the status and VPN checks of ${remote}, and the injected pods that still hold old addresses.`
        : `Run \`/mesh status ${remote}\` and \`/mesh vpn\` to verify it.`,
    ],
  };
}

async function recheckRestart(
  request: ApprovalRequest<RestartPayload>,
  ctx: JobContext,
): Promise<RecheckResult> {
  const where = clustersFor(request, ctx);
  if (typeof where === 'string') return { ok: false, reason: where };
  const { remote, targets } = request.payload;
  const fresh = await planRemote(ctx, remote);
  if (!fresh.ok) return { ok: false, reason: fresh.reason };
  // Pods restarted now are injected from the configuration: it must point at the live control plane first.
  if (fresh.repair.edits.length > 0)
    return stale(
      ctx,
      request,
      `the configuration on ${remote} drifted again (${planChanges([], fresh.repair.edits)}), so restarted pods would get old addresses`,
    );
  if (fresh.restart.hash !== request.planHash)
    return stale(
      ctx,
      request,
      `the pods to restart changed since the plan: ${restartPlanChanges(targets, fresh.restart.targets)}`,
    );
  return { ok: true };
}

/** What a rolling restart may use of the job's time; the rest is for the re-check before and the reply after. */
const RESTART_SHARE = 0.75;

async function applyRestart(request: ApprovalRequest<RestartPayload>, ctx: JobContext): Promise<ApplyResult> {
  const where = clustersFor(request, ctx);
  if (typeof where === 'string') return { ok: false, summary: where, detail: [] };
  const { remote, targets } = request.payload;
  const timeoutMs = ctx.config.checks.clusterTimeout;
  const deadline = Date.now() + ctx.config.jobs.timeout * RESTART_SHARE;
  const threadTs = (await approvalStore(ctx).get(request.id))?.status.messageTs;
  const steps: RolloutStep[] = targets.map((t) => ({
    deployment: `${t.namespace}/${t.name}`,
    state: 'waiting',
  }));
  let progressTs: string | undefined;
  const show = async () => {
    const message = { channel: request.channel, ...renderProgress(remote, steps) };
    try {
      if (progressTs) await ctx.reply.update({ ...message, ts: progressTs });
      else if (threadTs) progressTs = (await ctx.reply.post({ ...message, thread_ts: threadTs })).ts;
    } catch (err) {
      ctx.log.warn({ err, request: request.id }, 'could not post the restart progress');
    }
  };
  await show();

  const stopped = await rollingRestart(where, targets, steps, {
    deadline,
    signal: ctx.signal,
    timeoutMs,
    onStep: show,
  });

  // A conflict means the plan went stale: re-planned, it asks for what is still left to restart.
  const next = stopped?.conflict ? REPLAN_ACTION : VERIFY_ACTION;
  const queued = await enqueueFollowUp(ctx, request, next);
  const detail = [
    ...stepLines(steps),
    ...(queued
      ? [
          next === REPLAN_ACTION
            ? REPLANNING
            : `Next, in this thread: the status and VPN checks of ${remote}.`,
        ]
      : []),
  ];
  if (stopped) return { ok: false, summary: stopped.summary, detail };
  return {
    ok: true,
    summary: `${targets.length} Deployment${targets.length === 1 ? '' : 's'} on ${remote} restarted one at a time, each ready`,
    detail,
  };
}

export const driftRepairChange: ChangeKind<RepairPayload> = {
  kind: REPAIR_KIND,
  recheck: recheckRepair,
  apply: applyRepair,
};

export const driftRestartChange: ChangeKind<RestartPayload> = {
  kind: RESTART_KIND,
  recheck: recheckRestart,
  apply: applyRestart,
};
