import { type ApprovalRequest, auditOf, requestApproval } from '../approvals/decide.ts';
import { renderChartPng } from '../charts/index.ts';
import { istioSetup } from '../mesh/istio/profiles.ts';
import { ROUTING_KIND, type RoutingPayload } from '../mesh/routing/change.ts';
import { listDestinationRules, listVirtualServices } from '../mesh/routing/live.ts';
import { makePlan } from '../mesh/routing/plan.ts';
import { routingApproval } from '../mesh/routing/request.ts';
import { verificationChart } from '../mesh/routing/verify/chart.ts';
import type { Judgement } from '../mesh/routing/verify/judge.ts';
import type { MetricsReader } from '../mesh/routing/verify/read.ts';
import { revertWritten } from '../mesh/routing/verify/revert.ts';
import { watchedServices } from '../mesh/routing/verify/services.ts';
import {
  loadVerification,
  queueReading,
  saveVerification,
  VERIFY_ROUTING_ACTION,
  type VerificationSeed,
} from '../mesh/routing/verify/store.ts';
import {
  breachText,
  chartDelayAfterRevert,
  endState,
  readBaseline,
  takeReading,
  type Verification,
} from '../mesh/routing/verify/watch.ts';
import { metricsReader } from '../prometheus/reader.ts';
import { effectLines } from '../slack/render/routing.ts';
import { verifyBreachReply, verifyProgress } from '../slack/render/verify.ts';
import { settled } from './drift-followup.ts';
import type { ActionHandler, JobContext } from './types.ts';

/**
 * The verification window of an applied routing change, one reading per job: reading 0 takes the baseline
 * and posts the progress message in the change's thread; each later reading judges, edits that message, and
 * queues the next, until the window ends (chart, verdict) or a reading breaches (revert, chart).
 */

const readerFor = (ctx: JobContext): MetricsReader => {
  const primary = ctx.clusters.primary;
  return metricsReader(
    primary,
    istioSetup(ctx.config, primary.config).namespace,
    ctx.config.checks.clusterTimeout,
  );
};

const readingNumber = (actionTs: string) => Number(/-(\d+)$/.exec(actionTs)?.[1] ?? 0);

async function begin(ctx: JobContext, seed: VerificationSeed): Promise<Verification | undefined> {
  const found = await settled(ctx, seed.id);
  if (!found?.status.messageTs) return undefined;
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
    threadTs: found.status.messageTs,
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
  const posted = await ctx.slack.post({ channel: v.channel, thread_ts: v.threadTs, ...verifyProgress(v) });
  v.progressTs = posted.ts;
  return v;
}

async function showProgress(ctx: JobContext, v: Verification): Promise<void> {
  if (!v.progressTs) return;
  await ctx.slack
    .update({ channel: v.channel, ts: v.progressTs, ...verifyProgress(v) })
    .catch((err: unknown) =>
      ctx.log.warn({ err, request: v.id }, 'could not update the verification message'),
    );
}

async function postChart(ctx: JobContext, v: Verification, reader: MetricsReader): Promise<void> {
  v.chartPosted = true;
  await saveVerification(ctx, v);
  try {
    const spec = await verificationChart(v, reader, Date.now());
    await ctx.slack.upload({
      channel: v.channel,
      thread_ts: v.threadTs,
      filename: `verify-${v.label}-${v.id}.png`,
      title: `${v.label} on ${v.cluster}: request rate, 5xx share and p99 per version`,
      altText: `Chart of request rate, 5xx share and p99 latency per version of ${v.services.map((s) => s.name).join(', ')} around ${v.label}: ${v.outcome ?? v.state}`,
      data: renderChartPng(spec),
    });
  } catch (err) {
    ctx.log.warn({ err, request: v.id }, 'could not make or upload the verification chart');
    await ctx.slack
      .post({
        channel: v.channel,
        thread_ts: v.threadTs,
        text: `The verification chart could not be posted: ${(err as Error).message.split('\n')[0]}`,
      })
      .catch(() => {});
  }
}

/** A revert of what meshops wrote, put up for approval (routing.verify.revert: propose). */
async function proposeRevert(ctx: JobContext, v: Verification, breach: string): Promise<boolean> {
  const primary = ctx.clusters.primary;
  const targets = v.written.map((w) => ({ ref: w.ref, spec: w.restore }));
  const live = await listVirtualServices(
    primary,
    targets.map((t) => t.ref.namespace),
  );
  const label = `revert of ${v.label}`;
  const plan = makePlan(targets, live, label);
  if (plan.changes.length === 0) return false;
  const outcome = await requestApproval(ctx, {
    ...routingApproval(primary.name, label, plan),
    requester: 'meshops',
    channel: v.channel,
    threadTs: v.threadTs,
    title: `Revert ${v.label} (verification breach)`,
    effect: [`Breach: ${breach}`, ...effectLines(plan.changes)],
    checks: [],
  });
  return outcome.ok;
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
    const proposed = mode === 'propose' && (await proposeRevert(ctx, v, breach).catch(() => false));
    v.state = proposed ? 'revert-proposed' : 'breached';
    v.outcome = `breached: ${breach}`;
    reply = proposed ? { kind: 'proposed' } : { kind: 'off' };
    await audit.record({
      action: 'verified',
      who: 'meshops',
      kind: ROUTING_KIND,
      subject: v.label,
      request: v.id,
      result: `breach (${breach}); routing.verify.revert is ${mode}${proposed ? ': a revert was requested' : ''} (${people})`,
    });
  }
  await saveVerification(ctx, v);
  await showProgress(ctx, v);
  await ctx.slack
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
  const stored = await loadVerification(ctx, job.value);
  if (!stored) return;
  const n = readingNumber(job.actionTs);
  let v: Verification;
  if (!('state' in stored)) {
    if (n !== 0) return;
    const begun = await begin(ctx, stored);
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
