import { WebAPIRateLimitedError } from '@slack/web-api';
import type { Permissions } from '../access/permissions.ts';
import type { ReplyPort } from '../chat/reply.ts';
import type { ScheduleConfig } from '../config/schema.ts';
import { type ProposeDeps, proposeScheduledRepairs } from '../mesh/repair/propose.ts';
import { scrub } from '../observability/logger.ts';
import { SlackApiError } from '../slack/poster.ts';
import { postDayChart } from './chart.ts';
import {
  type RunView,
  renderChange,
  renderDigest,
  renderRepairNotProposed,
  renderRunPost,
} from './render.ts';
import { type CheckDeps, combine, failedReport, type RunOutcome, type ScheduledChecks } from './report.ts';
import { type LastRun, type PausedState, type ScheduleStore, scheduleStore } from './store.ts';
import { dayKey, nextRun } from './timing.ts';
import { compare, type Transition } from './transition.ts';

/** What a scheduled run uses: the checks, the reply port, its Redis keys, and drift proposals. */
export interface ScheduleDeps extends CheckDeps, ProposeDeps {
  config: CheckDeps['config'] & ProposeDeps['config'];
  reply: ReplyPort;
  /** Who may request repairs: a run someone started proposes one only when they are an operator. */
  permissions: Pick<Permissions, 'isOperator'>;
  signal: AbortSignal;
}

export interface RunRequest {
  schedule: ScheduleConfig;
  /** The run's identity: the same slot is posted once, however often its job is delivered. */
  slot: string;
  /** The cron slot's time; absent for a manual run. */
  scheduledFor?: number;
  trigger: 'cron' | 'manual';
  requestedBy?: string;
}

export type RunResult =
  | { kind: 'skipped'; paused: PausedState }
  | { kind: 'duplicate' }
  | { kind: 'posted'; outcome: RunOutcome; transition: Transition; ts: string; paused?: PausedState };

/**
 * Scheduler jobs are named `repeat:<scheduler id>:<slot millis>` by BullMQ, one id per slot; anything else
 * (a manual run) is its own slot.
 */
export function slotOf(jobId: string): { slot: string; scheduledFor?: number } {
  const m = /^repeat:.+:(\d+)$/.exec(jobId);
  return m ? { slot: `cron-${m[1]}`, scheduledFor: Number(m[1]) } : { slot: `job-${jobId}` };
}

/** Slack's code for a refused call ("not_in_channel", "ratelimited"), or what kind of failure it was. */
export function postingErrorCode(err: unknown): string {
  if (err instanceof SlackApiError) return err.code;
  if (err instanceof WebAPIRateLimitedError) return 'ratelimited';
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.name : 'unknown';
}

async function runChecks(
  schedule: ScheduleConfig,
  checks: ScheduledChecks,
  ctx: ScheduleDeps,
): Promise<RunOutcome> {
  const reports = await Promise.all(
    schedule.checks.map((name) =>
      checks[name](ctx).catch((err: unknown) => {
        ctx.log.warn({ err, check: name }, 'scheduled check threw');
        const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err);
        return failedReport(name, scrub(reason).slice(0, 300));
      }),
    ),
  );
  return combine(reports);
}

interface Posting {
  request: RunRequest;
  view: RunView;
  transition: Transition;
  store: ScheduleStore;
  ctx: ScheduleDeps;
}

/** Edits the day's parent (posting it on the day's first run), then replies in its thread if the state changed. */
async function postDigest({ request, view, transition, store, ctx }: Posting): Promise<string> {
  const { schedule, slot } = request;
  const { channel, name } = schedule;
  const day = dayKey(view.at, schedule.timezone);
  const changed = transition.kind !== 'none';
  let digest = await store.digest(name, channel, day);
  const message = renderDigest(view, {
    runs: (digest?.runs ?? 0) + 1,
    changes: (digest?.changes ?? 0) + (changed ? 1 : 0),
  });
  if (digest) {
    try {
      await ctx.reply.update({ channel, ts: digest.ts, ...message });
    } catch (err) {
      // Someone deleted today's digest: start a new one rather than fail every run until midnight.
      if (!(err instanceof SlackApiError && err.code === 'message_not_found')) throw err;
      ctx.log.warn({ schedule: name, ts: digest.ts }, "today's digest is gone; posting a new one");
      digest = undefined;
    }
  }
  const ts = digest?.ts ?? (await ctx.reply.post({ channel, ...message })).ts;
  if (!digest) {
    await store.startDigest(name, channel, day, ts);
    await postDayChart(ctx, { channel, ts, day }, view.at, postingErrorCode);
  }
  if (changed && !(await store.slot(name, slot)).reply) {
    const reply = await ctx.reply.post({ channel, thread_ts: ts, ...renderChange(view, transition) });
    await store.markSlot(name, slot, 'reply', reply.ts);
  }
  await store.finishRun(name, slot, lastRun(view), { channel, day, changed });
  return ts;
}

async function postEveryRun({ request, view, transition, store, ctx }: Posting): Promise<string> {
  const { schedule, slot } = request;
  let ts = (await store.slot(schedule.name, slot)).post;
  if (!ts) {
    ts = (await ctx.reply.post({ channel: schedule.channel, ...renderRunPost(view, transition) })).ts;
    await store.markSlot(schedule.name, slot, 'post', ts);
  }
  await store.finishRun(schedule.name, slot, lastRun(view));
  return ts;
}

function lastRun(view: RunView): LastRun {
  const { outcome } = view;
  return {
    verdict: outcome.verdict,
    at: view.at,
    findings: outcome.findings,
    summary: outcome.reports.map((r) => `${r.check}: ${r.summary}`).join('; '),
  };
}

/**
 * One run of a schedule: skip it when paused (cron runs only), run its checks, and post.
 *
 * Runs of one schedule are serialized by a Redis lock, and every step is recorded against the run's slot,
 * so a job delivered twice (two workers after a stall, a retry after a failed post) posts at most once per
 * slot: the second delivery finds the slot done, or finds what was already posted and skips it.
 */
export async function runSchedule(
  request: RunRequest,
  ctx: ScheduleDeps,
  checks: ScheduledChecks,
): Promise<RunResult> {
  const { schedule, slot } = request;
  const store = scheduleStore(ctx.redis, ctx.prefix);
  const paused = await store.paused(schedule.name);
  if (paused && request.trigger === 'cron') return { kind: 'skipped', paused };
  if ((await store.slot(schedule.name, slot)).done) return { kind: 'duplicate' };

  return store.withLock(schedule.name, ctx.config.jobs.timeout + 5000, ctx.signal, async () => {
    if ((await store.slot(schedule.name, slot)).done) return { kind: 'duplicate' } as const;
    const outcome = await runChecks(schedule, checks, ctx);
    const at = Date.now();
    const view: RunView = {
      schedule,
      outcome,
      at,
      next: nextRun(schedule.cron, schedule.timezone, at),
      ...(request.scheduledFor !== undefined ? { scheduledFor: request.scheduledFor } : {}),
      ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    };
    const transition = compare(await store.lastRun(schedule.name), outcome);
    const posting: Posting = { request, view, transition, store, ctx };
    try {
      const ts = await (schedule.mode === 'digest' ? postDigest(posting) : postEveryRun(posting));
      const statusFindings = outcome.reports.flatMap((r) =>
        r.check === 'status' ? r.findings.map((f) => f.id) : [],
      );
      const by = request.requestedBy;
      const { notProposed } = await proposeScheduledRepairs(
        ctx,
        { channel: schedule.channel, ts },
        statusFindings,
        by ? { user: by, operator: await ctx.permissions.isOperator(by) } : undefined,
      );
      if (notProposed.length > 0 && by)
        await ctx.reply
          .post({ channel: schedule.channel, thread_ts: ts, ...renderRepairNotProposed(notProposed, by) })
          .catch((err: unknown) => ctx.log.warn({ err }, 'could not say why no repair was proposed'));
      return { kind: 'posted', outcome, transition, ts, ...(paused ? { paused } : {}) } as const;
    } catch (err) {
      const previous = await store.postingError(schedule.name);
      const attempt = previous?.slot === slot ? previous.attempt + 1 : 1;
      const code = postingErrorCode(err);
      await store.recordPostingError(schedule.name, { code, at: Date.now(), attempt, slot });
      ctx.log.warn(
        { err, schedule: schedule.name, channel: schedule.channel, code, attempt },
        'scheduled post failed',
      );
      throw err;
    }
  });
}
