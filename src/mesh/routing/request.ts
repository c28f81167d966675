import { auditOf, requestApproval } from '../../access/approvals.ts';
import type { JobContext, JobResult } from '../../jobs/types.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import type { CommandJob } from '../../queue/jobs.ts';
import { istioSetup } from '../istio/profiles.ts';
import { lockKey, lockLabel, ROUTING_KIND, type RoutingPayload } from './change.ts';
import { listVirtualServices } from './live.ts';
import { makePlan, type Target } from './plan.ts';
import { type PreflightCheck, runPreflight, type TunnelProbe } from './preflight.ts';
import { effectLines, renderNotRequested, renderRequested } from './render.ts';

export interface RoutingRequest {
  /** Where the specs come from, as the diff and the audit log name it: a preset name or "rollback". */
  label: string;
  /** "Route apply reviews-v3". */
  title: string;
  targets: Target[];
}

/**
 * The common path of `/mesh route apply` and `/mesh route rollback`: plan against the live primary,
 * pre-flight, then put the change up for approval. Nothing is written here.
 */
export async function requestRoutingChange(
  ctx: JobContext,
  job: CommandJob,
  change: RoutingRequest,
  tunnel?: TunnelProbe,
): Promise<JobResult> {
  const primary = ctx.clusters.primary;
  let live: Awaited<ReturnType<typeof listVirtualServices>>;
  try {
    live = await listVirtualServices(
      primary,
      change.targets.map((t) => t.ref.namespace),
    );
  } catch (err) {
    return renderNotRequested(
      change.title,
      `the live routes on ${primary.name} could not be read (${classifyKubeError(err).reason}); nothing was requested`,
    );
  }
  const plan = makePlan(change.targets, live, change.label);
  if (plan.changes.length === 0)
    return renderNotRequested(
      change.title,
      `the live routes on ${primary.name} already match ${change.label}; there is nothing to approve`,
      [],
      'info',
    );

  const checks: PreflightCheck[] = await runPreflight(
    {
      primary,
      all: ctx.clusters.all,
      istioNamespace: istioSetup(ctx.config, primary.config).namespace,
      ...(tunnel ? { tunnel } : {}),
    },
    plan.changes,
  );
  const failed = checks.filter((c) => c.level === 'fail');
  if (failed.length > 0 && ctx.config.routing.preflight === 'block') {
    const reason = `pre-flight failed (${failed.map((c) => c.text).join('; ')}), and routing.preflight is block, so nobody was asked to approve`;
    await auditOf(ctx).record({
      action: 'refused',
      who: job.user,
      kind: ROUTING_KIND,
      subject: change.label,
      planHash: plan.hash,
      diff: plan.diff,
      result: `not requested: ${reason}`,
    });
    return renderNotRequested(change.title, `not requested: ${reason}`, checks);
  }
  if (failed.length > 0)
    checks.push({
      level: 'warn',
      text: `routing.preflight is warn: requested although ${failed.length} check${failed.length === 1 ? '' : 's'} failed`,
    });

  const payload: RoutingPayload = { label: change.label, cluster: primary.name, changes: plan.changes };
  const outcome = await requestApproval(ctx, {
    kind: ROUTING_KIND,
    requester: job.user,
    channel: job.channel,
    threadTs: job.parentTs,
    title: change.title,
    subject: change.label,
    effect: effectLines(plan.changes),
    diff: plan.diff,
    planHash: plan.hash,
    checks,
    locks: plan.changes.map((c) => ({
      key: lockKey(primary.name, c.ref),
      label: lockLabel(primary.name, c.ref),
    })),
    bindings: plan.changes.map((c) => ({
      target: lockKey(primary.name, c.ref),
      resourceVersion: c.resourceVersion,
    })),
    payload,
  });
  if (!outcome.ok) return renderNotRequested(change.title, `not requested: ${outcome.reason}`, checks);
  return renderRequested(change.title, plan, checks, outcome.request);
}
