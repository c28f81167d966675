import { isDeepStrictEqual } from 'node:util';
import type { JobSchedulerJson, JobsOptions, Queue } from 'bullmq';
import type { ScheduleConfig } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { jobName, type ScheduleJob } from '../queue/jobs.ts';

/** meshops owns only the schedulers it created: their ids start with this, and nothing else is touched. */
export const SCHEDULER_PREFIX = 'health:';

export const schedulerId = (name: string) => `${SCHEDULER_PREFIX}${name}`;

/**
 * Posting into a channel the bot was removed from fails until someone invites it back: retry a few times,
 * spaced out (5 s, 10 s, 20 s, 40 s), then give up on this run; the next run is already queued.
 */
export const SCHEDULE_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 7 * 86_400, count: 1000 },
  removeOnFail: { age: 30 * 86_400, count: 1000 },
} as const satisfies JobsOptions;

export function schedulerTemplate(name: string): { name: string; data: ScheduleJob; opts: JobsOptions } {
  const data: ScheduleJob = { type: 'schedule', name, trigger: 'cron' };
  return { name: jobName(data), data, opts: SCHEDULE_JOB_OPTIONS };
}

export interface SyncResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  removed: string[];
}

function sameAsConfigured(current: JobSchedulerJson, schedule: ScheduleConfig): boolean {
  const template = schedulerTemplate(schedule.name);
  return (
    current.pattern === schedule.cron &&
    current.tz === schedule.timezone &&
    current.name === template.name &&
    isDeepStrictEqual(current.template?.data, template.data) &&
    current.template?.opts?.attempts === template.opts.attempts &&
    isDeepStrictEqual(current.template?.opts?.backoff, template.opts.backoff)
  );
}

/**
 * Makes the queue's schedulers match the config: one per entry, and none for entries that were dropped.
 *
 * An unchanged scheduler is left alone on purpose. Upserting a cron scheduler recomputes its next slot from
 * now and replaces the pending job, so a restart after downtime would silently drop the run that was missed;
 * left alone, that pending job runs once when a worker is back (the single catch-up), and BullMQ computes
 * the following slot from then, so missed slots never pile up.
 */
export async function syncSchedulers(
  queue: Queue,
  schedules: readonly ScheduleConfig[],
): Promise<SyncResult> {
  const result: SyncResult = { created: [], updated: [], unchanged: [], removed: [] };
  const existing = new Map(
    (await queue.getJobSchedulers(0, -1, true))
      .filter((s) => s.key.startsWith(SCHEDULER_PREFIX))
      .map((s) => [s.key, s]),
  );
  for (const schedule of schedules) {
    const id = schedulerId(schedule.name);
    const current = existing.get(id);
    existing.delete(id);
    if (current && sameAsConfigured(current, schedule)) {
      result.unchanged.push(schedule.name);
      continue;
    }
    await queue.upsertJobScheduler(
      id,
      { pattern: schedule.cron, tz: schedule.timezone },
      schedulerTemplate(schedule.name),
    );
    (current ? result.updated : result.created).push(schedule.name);
  }
  for (const id of existing.keys()) {
    await queue.removeJobScheduler(id);
    result.removed.push(id.slice(SCHEDULER_PREFIX.length));
  }
  return result;
}

/**
 * Syncs at start-up without holding the start hostage: when Redis is not there yet, BullMQ waits for it, so
 * after `waitMs` the start goes on (the app must still answer Slack) and the sync finishes once Redis
 * answers; a sync that fails is tried again every `retryMs`. Returns a function that stops the retries.
 */
export async function syncAtStart(
  queue: Queue,
  schedules: readonly ScheduleConfig[],
  log: Logger,
  { waitMs = 3000, retryMs = 5000 } = {},
): Promise<() => void> {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const attempt = async (): Promise<void> => {
    try {
      const result = await syncSchedulers(queue, schedules);
      log.info(result, 'job schedulers match the config');
    } catch (err) {
      if (stopped) return;
      log.warn({ err, retryMs }, 'could not sync the job schedulers; retrying');
      timer = setTimeout(() => void attempt(), retryMs);
    }
  };
  let waited: NodeJS.Timeout | undefined;
  const first = attempt();
  const late = await Promise.race([
    first.then(() => false),
    new Promise<boolean>((resolve) => {
      waited = setTimeout(() => resolve(true), waitMs);
    }),
  ]);
  clearTimeout(waited);
  if (late) log.warn({ waitMs }, 'Redis does not answer yet; the job schedulers are synced once it does');
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
