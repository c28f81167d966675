import { auditOf } from '../access/audit.ts';
import { approvalsFor } from '../approvals/request.ts';
import { approvalStore } from '../approvals/store.ts';
import type { ApprovalDeps, Decision } from '../approvals/types.ts';
import type { ApprovalRequest } from '../mesh/change.ts';
import { istioSetup } from '../mesh/istio/profiles.ts';
import { ROUTING_KIND, type RoutingPayload } from '../mesh/routing/change.ts';
import { listDestinationRules } from '../mesh/routing/live.ts';
import { requestRoutingChange } from '../mesh/routing/request.ts';
import { verificationChart } from '../mesh/routing/verify/chart.ts';
import type { Judgement } from '../mesh/routing/verify/judge.ts';
import type { MetricsReader } from '../mesh/routing/verify/read.ts';
import { changedReason, changedSince, revertWritten } from '../mesh/routing/verify/revert.ts';
import { watchedServices } from '../mesh/routing/verify/services.ts';
import { loadVerification, saveVerification } from '../mesh/routing/verify/store.ts';
import {
  breachText,
  chartDelayAfterRevert,
  endState,
  readBaseline,
  takeReading,
  type Verification,
} from '../mesh/routing/verify/watch.ts';
import { type WrittenChange, writtenBy } from '../mesh/routing/written.ts';
import { metricsReader } from '../prometheus/reader.ts';
import { approvalView } from '../slack/render/approval.ts';
import { verifyBreachReply, verifyProgress } from '../slack/render/verify.ts';
import type { ActionHandler, JobContext } from './types.ts';

/**
 * The verification window of an applied routing change, one reading per job: reading 0 takes the baseline
 * and posts the progress message in the change's thread; each later reading judges, edits that message, and
 * queues the next, until the window ends (chart, verdict) or a reading breaches (revert, chart).
 */

export const VERIFY_ROUTING_ACTION = 'mesh.routing-verify';

/** Queues reading `n` of request `id` to run `delayMs` from now; queueing the same reading twice queues it once. */
async function queueReading(
  deps: Pick<ApprovalDeps, 'enqueue'>,
  target: { id: string; channel: string; messageTs: string },
  n: number,
  delayMs: number,
): Promise<void> {
  await deps.enqueue(
    {
      type: 'action',
      action: VERIFY_ROUTING_ACTION,
      value: target.id,
      user: 'meshops',
      channel: target.channel,
      messageTs: target.messageTs,
      actionTs: `routing-verify-${target.id}-${n}`,
      requestedAt: Date.now(),
    },
    { jobId: `routing-verify-${target.id}-${n}`, delayMs: Math.max(0, delayMs) },
  );
}

/** The routing kind's afterDecision hook: an applied change that wrote something gets its verification window. */
export async function afterRoutingDecision(
  request: ApprovalRequest<RoutingPayload>,
  decision: Decision,
  deps: ApprovalDeps,
): Promise<void> {
  if (decision.state !== 'applied' || decision.followUp !== 'verify') return;
  try {
    await queueReading(
      deps,
      { id: request.id, channel: request.channel, messageTs: decision.messageTs },
      0,
      0,
    );
  } catch (err) {
    deps.log.warn({ err, request: request.id }, 'could not queue the verification of a routing change');
    const text =
      ':warning: The verification of this change could not be queued: watch it with `/mesh status`.';
    await deps.reply
      .post({ channel: request.channel, thread_ts: decision.messageTs, text })
      .catch((e: unknown) => deps.log.warn({ err: e }, 'could not say the verification was not queued'));
  }
}

const readerFor = (ctx: JobContext): MetricsReader => {
  const primary = ctx.clusters.primary;
  return metricsReader(
    primary,
    istioSetup(ctx.config, primary.config).namespace,
    ctx.config.checks.clusterTimeout,
  );
};

const readingNumber = (actionTs: string) => Number(/-(\d+)$/.exec(actionTs)?.[1] ?? 0);

async function begin(
  ctx: JobContext,
  seed: WrittenChange,
  threadTs: string,
): Promise<Verification | undefined> {
  const found = await approvalStore(ctx).get(seed.id);
  if (!found) return undefined;
  const request = found.request as ApprovalRequest<RoutingPayload>;
  const primary = ctx.clusters.primary;
  const setup = istioSetup(ctx.config, primary.config);
  const changes = request.payload.changes;
  const rules = await listDestinationRules(
    primary,
    changes.map((c) => c.ref.namespace),
  ).catch(() => []);
  const cfg = ctx.config.routing.verify;
  const v: Verification = {
    id: seed.id,
    label: request.payload.label,
    cluster: primary.name,
    profile: setup.profile,
    channel: request.channel,
    threadTs: found.status.messageTs ?? threadTs,
    requester: request.requester,
    approver: found.status.decidedBy ?? 'meshops',
    changedAt: seed.changedAt,
    endsAt: seed.changedAt + cfg.window,
    intervalMs: cfg.interval,
    windowMs: cfg.window,
    thresholds: {
      maxErrorRate: cfg.maxErrorRate,
      maxLatencyRatio: cfg.maxLatencyRatio,
      minRequests: cfg.minRequests,
    },
    services: watchedServices(changes, rules),
    written: seed.written,
    readings: [],
    state: 'watching',
  };
  try {
    v.baseline = await readBaseline(v, readerFor(ctx));
  } catch (err) {
    // The readings say the same if Prometheus stays away; without a baseline only latency cannot be judged.
    ctx.log.warn({ err, request: v.id }, 'could not read the baseline of a routing verification');
  }
  const posted = await ctx.reply.post({ channel: v.channel, thread_ts: v.threadTs, ...verifyProgress(v) });
  v.progressTs = posted.ts;
  return v;
}

async function showProgress(ctx: JobContext, v: Verification): Promise<void> {
  if (!v.progressTs) return;
  await ctx.reply
    .update({ channel: v.channel, ts: v.progressTs, ...verifyProgress(v) })
    .catch((err: unknown) =>
      ctx.log.warn({ err, request: v.id }, 'could not update the verification message'),
    );
}

async function postChart(ctx: JobContext, v: Verification, reader: MetricsReader): Promise<void> {
  v.chartPosted = true;
  await saveVerification(ctx, v);
  try {
    const spec = await verificationChart(v, reader, Date.now(), ctx.userName);
    // echarts and resvg take about a second to load: only a verification that reaches its chart pays for them.
    const { renderChartPng } = await import('../charts/index.ts');
    await ctx.reply.upload({
      channel: v.channel,
      thread_ts: v.threadTs,
      filename: `verify-${v.label}-${v.id}.png`,
      title: `${v.label} on ${v.cluster}: request rate, 5xx share and p99 per version`,
      altText: `Chart of request rate, 5xx share and p99 latency per version of ${v.services.map((s) => s.name).join(', ')} around ${v.label}: ${spec.subtitle}`,
      data: renderChartPng(spec),
    });
  } catch (err) {
    // The verdict and any revert are already written and posted: a chart that cannot follow is only noted
    // in the verification message, which every reader of the thread sees.
    ctx.log.warn({ err, request: v.id }, 'could not make or upload the verification chart');
    v.chartError = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
    await saveVerification(ctx, v);
    await showProgress(ctx, v);
  }
}

type Proposal = { ok: true } | { ok: false; conflict: boolean; reason: string };

/**
 * A revert of what meshops wrote, put up for approval (routing.verify.revert: propose), planned and
 * pre-flighted like any routing request; meshops is its requester, so any approver may approve it. Like an
 * automatic revert, it is only proposed while the objects are still what meshops wrote: a revert planned
 * over someone else's later edit would ask to overwrite it.
 */
async function proposeRevert(ctx: JobContext, v: Verification): Promise<Proposal> {
  const { moved } = await changedSince(ctx.clusters.primary, v.written);
  if (moved.length > 0) return { ok: false, conflict: true, reason: changedReason(moved) };
  const outcome = await requestRoutingChange(
    { ...ctx, approvals: approvalsFor(ctx, approvalView) },
    { requester: 'meshops', channel: v.channel, threadTs: v.threadTs },
    {
      label: `revert of ${v.label}`,
      title: `Revert ${v.label} (verification breach)`,
      targets: v.written.map((w) => ({ ref: w.ref, spec: w.restore })),
    },
  );
  return outcome.kind === 'requested' ? { ok: true } : { ok: false, conflict: false, reason: outcome.reason };
}

async function onBreach(
  ctx: JobContext,
  v: Verification,
  judgement: Judgement,
  reader: MetricsReader,
): Promise<void> {
  const breach = breachText(judgement);
  const mode = ctx.config.routing.verify.revert;
  const audit = auditOf(ctx);
  const people = `requested by ${v.requester}, approved by ${v.approver}`;
  let reply: Parameters<typeof verifyBreachReply>[2];
  if (mode === 'auto') {
    const result = await revertWritten(ctx.clusters.primary, v.written).catch((err: unknown) => ({
      ok: false as const,
      conflict: false,
      reason: (err as Error).message,
      lines: [],
    }));
    if (result.ok) {
      v.state = 'reverted';
      v.revertedAt = Date.now();
      v.outcome = `reverted: ${breach}`;
      reply = { kind: 'reverted', lines: result.lines };
      await audit.record({
        action: 'reverted',
        who: 'meshops',
        kind: ROUTING_KIND,
        subject: v.label,
        request: v.id,
        result: `reverted under the change's approval (${people}) because ${breach}; ${result.lines.join('; ')}`,
      });
    } else {
      v.state = result.conflict ? 'revert-blocked' : 'revert-failed';
      v.outcome = `breached (${breach}); not reverted: ${result.reason}`;
      reply = result.conflict
        ? { kind: 'blocked', reason: result.reason }
        : { kind: 'failed', reason: result.reason };
      await audit.record({
        action: 'failed',
        who: 'meshops',
        kind: ROUTING_KIND,
        subject: v.label,
        request: v.id,
        result: `breach (${breach}); the revert was not written: ${result.reason} (${people})`,
      });
    }
  } else {
    const proposal: Proposal | undefined =
      mode === 'propose'
        ? await proposeRevert(ctx, v).catch((err: unknown) => ({
            ok: false as const,
            conflict: false,
            reason: (err as Error).message.split('\n')[0]!,
          }))
        : undefined;
    const blocked = proposal && !proposal.ok && proposal.conflict ? proposal.reason : undefined;
    v.state = proposal?.ok ? 'revert-proposed' : blocked ? 'revert-blocked' : 'breached';
    v.outcome = blocked ? `breached (${breach}); no revert proposed: ${blocked}` : `breached: ${breach}`;
    reply = !proposal
      ? { kind: 'off' }
      : proposal.ok
        ? { kind: 'proposed' }
        : proposal.conflict
          ? { kind: 'blocked', reason: proposal.reason }
          : { kind: 'not-proposed', reason: proposal.reason };
    await audit.record({
      action: 'verified',
      who: 'meshops',
      kind: ROUTING_KIND,
      subject: v.label,
      request: v.id,
      result: `breach (${breach}); routing.verify.revert is ${mode}${!proposal ? '' : proposal.ok ? ': a revert was requested' : `, but the revert could not be requested: ${proposal.reason}`} (${people})`,
    });
  }
  await saveVerification(ctx, v);
  await showProgress(ctx, v);
  await ctx.reply
    .post({ channel: v.channel, thread_ts: v.threadTs, ...verifyBreachReply(v, breach, reply) })
    .catch((err: unknown) => ctx.log.warn({ err, request: v.id }, 'could not post the breach in the thread'));
  if (v.state !== 'reverted') return postChart(ctx, v, reader);
  await queueReading(
    ctx,
    { id: v.id, channel: v.channel, messageTs: v.threadTs },
    v.readings.length + 1,
    chartDelayAfterRevert(v),
  );
}

async function onEnd(ctx: JobContext, v: Verification, reader: MetricsReader): Promise<void> {
  const { state, outcome } = endState(v);
  v.state = state;
  v.outcome = outcome;
  await saveVerification(ctx, v);
  await showProgress(ctx, v);
  await auditOf(ctx).record({
    action: 'verified',
    who: 'meshops',
    kind: ROUTING_KIND,
    subject: v.label,
    request: v.id,
    result: outcome,
  });
  await postChart(ctx, v, reader);
}

const tick: ActionHandler = async (job, ctx) => {
  const n = readingNumber(job.actionTs);
  const stored = await loadVerification(ctx, job.value);
  let v: Verification;
  if (!stored) {
    // Reading 0: the baseline, from what the change wrote.
    const written = n === 0 ? await writtenBy(ctx, job.value) : undefined;
    const begun = written && (await begin(ctx, written, job.messageTs));
    if (!begun) return;
    v = begun;
  } else {
    v = stored;
    const reader = readerFor(ctx);
    // The job queued after a revert: the chart, now that it shows the traffic going back.
    if (v.state === 'reverted' && !v.chartPosted && n === v.readings.length + 1)
      return postChart(ctx, v, reader);
    // A reading already taken (a redelivered job) or a window already over: nothing to do.
    if (v.state !== 'watching' || v.readings.length >= n) return;
    const { reading, step } = await takeReading(v, reader, Date.now());
    v.readings.push(reading);
    if (step === 'breach' && 'judgement' in reading) return onBreach(ctx, v, reading.judgement, reader);
    if (step === 'end') return onEnd(ctx, v, reader);
    await showProgress(ctx, v);
  }
  await saveVerification(ctx, v);
  const next = v.readings.length + 1;
  await queueReading(
    ctx,
    { id: v.id, channel: v.channel, messageTs: v.threadTs },
    next,
    v.changedAt + next * v.intervalMs - Date.now(),
  );
};

export const routeVerifyActions: Record<string, ActionHandler> = { [VERIFY_ROUTING_ACTION]: tick };
