import type { ScheduledChecks } from '../schedules/report.ts';
import { runSchedule, slotOf } from '../schedules/run.ts';
import type { ScheduleHandler } from './types.ts';

/** The `schedule` job a BullMQ job scheduler queues for each cron slot of a `schedules:` entry. */
export function createScheduleHandler(checks: ScheduledChecks): ScheduleHandler {
  return async (job, ctx) => {
    const schedule = ctx.config.schedules.find((s) => s.name === job.name);
    if (!schedule) {
      // A scheduler left by an older config; the next start-up removes it.
      ctx.log.warn({ schedule: job.name }, 'schedule is not in this config; run skipped');
      return;
    }
    const result = await runSchedule(
      {
        schedule,
        ...slotOf(ctx.jobId),
        trigger: job.trigger,
        ...(job.user ? { requestedBy: job.user } : {}),
      },
      ctx,
      checks,
    );
    const log = ctx.log.child({ schedule: schedule.name, channel: schedule.channel });
    switch (result.kind) {
      case 'skipped':
        log.info({ pausedBy: result.paused.by }, 'schedule is paused; run skipped');
        break;
      case 'duplicate':
        log.info('this slot was already posted; nothing to do');
        break;
      case 'posted':
        log.info(
          { verdict: result.outcome.verdict, change: result.transition.kind, ts: result.ts },
          'scheduled health posted',
        );
    }
  };
}
