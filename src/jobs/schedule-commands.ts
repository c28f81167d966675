import { auditOf } from '../access/audit.ts';
import type { JobResult } from '../chat/reply.ts';
import type { ScheduleConfig } from '../config/schema.ts';
import type { CommandJob } from '../queue/jobs.ts';
import {
  renderCannotPost,
  renderPaused,
  renderResumed,
  renderRunConfirmation,
  renderScheduleList,
} from '../schedules/render.ts';
import type { ScheduledChecks } from '../schedules/report.ts';
import { runSchedule } from '../schedules/run.ts';
import { scheduleStore } from '../schedules/store.ts';
import { nextRun } from '../schedules/timing.ts';
import { MEMBERSHIP_ERRORS, SlackApiError } from '../slack/poster.ts';
import { section } from '../slack/render/blocks.ts';
import type { CommandHandler, JobContext } from './types.ts';

/** The app parsed the name against its config; a worker on another config version may not know it. */
function find(name: string, ctx: JobContext): ScheduleConfig | JobResult {
  const schedule = ctx.config.schedules.find((s) => s.name === name);
  if (schedule) return schedule;
  const text = `:x: This worker's config has no schedule "${name}"; available: ${
    ctx.config.schedules.map((s) => s.name).join(', ') || '(none)'
  }.`;
  return { verdict: 'failed', summary: `unknown schedule "${name}"`, text, blocks: [section(text)] };
}

export const scheduleListHandler: CommandHandler<'schedule-list'> = async (_command, _job, ctx) => {
  const store = scheduleStore(ctx.redis, ctx.prefix);
  const now = Date.now();
  const rows = await Promise.all(
    ctx.config.schedules.map(async (schedule) => {
      const [last, paused, error] = await Promise.all([
        store.lastRun(schedule.name),
        store.paused(schedule.name),
        store.postingError(schedule.name),
      ]);
      return {
        schedule,
        next: nextRun(schedule.cron, schedule.timezone, now),
        ...(last ? { last } : {}),
        ...(paused ? { paused } : {}),
        ...(error ? { error } : {}),
      };
    }),
  );
  return renderScheduleList(rows);
};

/** `/mesh schedule run <name>`: the same run as a cron slot, posted into the schedule's channel now. */
export function createScheduleRunHandler(checks: ScheduledChecks): CommandHandler<'schedule-run'> {
  return async (command, job, ctx) => {
    const schedule = find(command.name, ctx);
    if (!('cron' in schedule)) return schedule;
    try {
      const result = await runSchedule(
        { schedule, slot: `run-${ctx.jobId}`, trigger: 'manual', requestedBy: job.user },
        ctx,
        checks,
      );
      if (result.kind !== 'posted') {
        const text = `\`${schedule.name}\` was already run for this request.`;
        return { verdict: 'info', summary: 'already run', text, blocks: [section(text)] };
      }
      return renderRunConfirmation(schedule, result.outcome, result.transition, result.paused);
    } catch (err) {
      if (err instanceof SlackApiError && MEMBERSHIP_ERRORS.has(err.code))
        return renderCannotPost(schedule, err.code);
      throw err;
    }
  };
}

/** Pausing and resuming are changes an operator made: both go into the audit stream. */
function recordChange(ctx: JobContext, job: CommandJob, subject: string, result: string): Promise<unknown> {
  return auditOf(ctx).record({
    action: 'applied',
    who: job.user,
    kind: 'schedule',
    subject,
    request: job.text,
    result,
  });
}

export const schedulePauseHandler: CommandHandler<'schedule-pause'> = async (command, job, ctx) => {
  const schedule = find(command.name, ctx);
  if (!('cron' in schedule)) return schedule;
  const store = scheduleStore(ctx.redis, ctx.prefix);
  const now = Date.now();
  const next = nextRun(schedule.cron, schedule.timezone, now);
  if (await store.pause(schedule.name, job.user, now)) {
    await recordChange(ctx, job, `pause ${schedule.name}`, 'paused: its runs are skipped until resumed');
    return renderPaused(schedule, next);
  }
  return renderPaused(schedule, next, await store.paused(schedule.name));
};

export const scheduleResumeHandler: CommandHandler<'schedule-resume'> = async (command, job, ctx) => {
  const schedule = find(command.name, ctx);
  if (!('cron' in schedule)) return schedule;
  const resumed = await scheduleStore(ctx.redis, ctx.prefix).resume(schedule.name);
  if (resumed) await recordChange(ctx, job, `resume ${schedule.name}`, 'resumed: its runs post again');
  return renderResumed(schedule, nextRun(schedule.cron, schedule.timezone, Date.now()), resumed);
};
