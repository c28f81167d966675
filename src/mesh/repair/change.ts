import type { MeshConfig } from '../../config/schema.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import type { Clusters } from '../../kube/registry.ts';
import type { ApplyResult, ApprovalRequest, RecheckResult } from '../change.ts';
import { stepLines, writtenLines } from './describe.ts';
import { planRemote } from './live.ts';
import { type Edit, objectLabel, planChanges } from './plan.ts';
import {
  type DriftPlanned,
  planDrift,
  REPAIR_KIND,
  RESTART_KIND,
  type RepairPayload,
  type RestartPayload,
} from './request.ts';
import { restartPlanChanges } from './restart-plan.ts';
import type { RolloutStep } from './rollout-state.ts';
import { rollingRestart, writeEdit } from './writes.ts';

/**
 * The two approval kinds of a drift repair: `drift-repair` writes the remote's configuration (the `istio`
 * ConfigMap and `istio-pilot` Endpoints, or the `istiod` Endpoints or EndpointSlice of a modern remote) at
 * the bound resourceVersions;
 * `drift-restart` rolls the Deployments whose pods still hold old addresses, one at a time. A plan that
 * went stale is refused and re-planned; an applied one is verified, both once the request is concluded
 * (the afterDecision hook in src/jobs/drift-followup.ts).
 */

const REPLANNING =
  'meshops re-plans against the live state now; the new plan is posted for approval in this channel.';

/** What re-checking and applying a drift repair use. */
export interface DriftDeps {
  config: Pick<MeshConfig, 'istio' | 'checks' | 'jobs'>;
  clusters: Clusters;
  signal: AbortSignal;
}

function clustersFor(
  request: ApprovalRequest<RepairPayload | RestartPayload>,
  ctx: DriftDeps,
): Cluster | string {
  const { remote, primary } = request.payload;
  if (ctx.clusters.primary.name !== primary)
    return `the primary is now ${ctx.clusters.primary.name}, but the plan was made against ${primary}`;
  const cluster = ctx.clusters.get(remote);
  return cluster?.role === 'remote' ? cluster : `${remote} is no longer a configured remote cluster`;
}

/** Refuses a stale plan and has it re-planned, so the approver sees the new plan rather than a dead end. */
const stale = (reason: string): RecheckResult => ({
  ok: false,
  reason,
  next: REPLANNING,
  followUp: 'replan',
});

async function recheckRepair(
  request: ApprovalRequest<RepairPayload>,
  ctx: DriftDeps,
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
      `${moved.join(', ')} on ${request.payload.remote} changed since the plan, so the approved diff no longer describes what would happen`,
    );
  if (fresh.repair.hash !== request.planHash)
    return stale(
      `the live control plane moved since the plan: ${planChanges(request.payload.edits, fresh.repair.edits)}`,
    );
  return { ok: true };
}

async function applyRepair(request: ApprovalRequest<RepairPayload>, ctx: DriftDeps): Promise<ApplyResult> {
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
      return {
        ok: false,
        summary: `409 Conflict on ${objectLabel(edit)}: it changed on ${remote} while applying; it was not overwritten`,
        detail: [...wrote, REPLANNING],
        followUp: 'replan',
      };
    }
  }
  return {
    ok: true,
    summary: `${remote} points at the live control plane on ${primary} again (${edits.map(objectLabel).join(', ')})`,
    detail: [
      ...writtenLines(remote, done),
      `Next, in this thread: the status and VPN checks of ${remote}, and the injected pods that still hold old addresses.`,
    ],
    followUp: 'verify',
  };
}

async function recheckRestart(
  request: ApprovalRequest<RestartPayload>,
  ctx: DriftDeps,
): Promise<RecheckResult> {
  const where = clustersFor(request, ctx);
  if (typeof where === 'string') return { ok: false, reason: where };
  const { remote, targets } = request.payload;
  const fresh = await planRemote(ctx, remote);
  if (!fresh.ok) return { ok: false, reason: fresh.reason };
  // Pods restarted now are injected from the configuration: it must point at the live control plane first.
  if (fresh.repair.edits.length > 0)
    return stale(
      `the configuration on ${remote} drifted again (${planChanges([], fresh.repair.edits)}), so restarted pods would get old addresses`,
    );
  if (fresh.restart.hash !== request.planHash)
    return stale(
      `the pods to restart changed since the plan: ${restartPlanChanges(targets, fresh.restart.targets)}`,
    );
  return { ok: true };
}

/** What a rolling restart may use of the job's time; the rest is for the re-check before and the reply after. */
const RESTART_SHARE = 0.75;

/** Applying a rolling restart: the drift deps, and where each step's progress goes as it happens. */
export interface RestartDeps extends DriftDeps {
  onStep(steps: readonly RolloutStep[]): Promise<void>;
}

async function applyRestart(
  request: ApprovalRequest<RestartPayload>,
  ctx: RestartDeps,
): Promise<ApplyResult> {
  const where = clustersFor(request, ctx);
  if (typeof where === 'string') return { ok: false, summary: where, detail: [] };
  const { remote, targets } = request.payload;
  const timeoutMs = ctx.config.checks.clusterTimeout;
  const deadline = Date.now() + ctx.config.jobs.timeout * RESTART_SHARE;
  const steps: RolloutStep[] = targets.map((t) => ({
    deployment: `${t.namespace}/${t.name}`,
    state: 'waiting',
  }));
  const show = () => ctx.onStep(steps);
  await show();

  const stopped = await rollingRestart(where, targets, steps, {
    deadline,
    signal: ctx.signal,
    timeoutMs,
    onStep: show,
  });

  // A conflict means the plan went stale: re-planned, it asks for what is still left to restart.
  const followUp = stopped?.conflict ? 'replan' : 'verify';
  const detail = [
    ...stepLines(steps),
    followUp === 'replan' ? REPLANNING : `Next, in this thread: the status and VPN checks of ${remote}.`,
  ];
  if (stopped) return { ok: false, summary: stopped.summary, detail, followUp };
  return {
    ok: true,
    summary: `${targets.length} Deployment${targets.length === 1 ? '' : 's'} on ${remote} restarted one at a time, each ready`,
    detail,
    followUp,
  };
}

/** Both drift kinds plan the same way: the remote's next step, whichever kind it is. */
const plan = async (remote: string, deps: DriftDeps): Promise<DriftPlanned> => planDrift(remote, deps);

/** The two drift change kinds (registered, with their afterDecision hook, in src/jobs/changes.ts). */
export const driftRepairChange = { kind: REPAIR_KIND, plan, recheck: recheckRepair, apply: applyRepair };

export const driftRestartChange = { kind: RESTART_KIND, plan, recheck: recheckRestart, apply: applyRestart };
