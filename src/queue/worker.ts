import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from '../observability/logger.ts';
import { type RedisLocation, workerConnection } from './connection.ts';
import {
  type ActionJob,
  type CommandRequest,
  jobSchema,
  type MeshJob,
  QUEUE_NAME,
  type ScheduleJob,
} from './jobs.ts';

/** One delivery of a job, as the dispatcher sees it. */
export interface JobRun {
  jobId: string;
  log: Logger;
  /** True when no further attempt follows a failure of this one. */
  lastAttempt: boolean;
}

/**
 * Where the worker hands each parsed job (src/jobs/dispatch.ts). A throw fails the delivery: BullMQ retries
 * it while attempts are left, unless it is an UnrecoverableError.
 */
export interface Dispatch {
  /** Null when the run was dropped (its requester was told nothing was queued, and nobody joined it). */
  command(job: CommandRequest, run: JobRun): Promise<{ verdict: string; summary: string } | null>;
  action(job: ActionJob, run: JobRun): Promise<void>;
  schedule(job: ScheduleJob, run: JobRun): Promise<void>;
}

export interface WorkerDeps {
  redisTarget: RedisLocation;
  prefix: string;
  concurrency: number;
  log: Logger;
  dispatch: Dispatch;
  /** Lets tests shorten stall detection; production keeps BullMQ's 30 s. */
  stalledIntervalMs?: number;
  lockDurationMs?: number;
  onJobDone?: (name: string, outcome: 'completed' | 'failed', seconds: number) => void;
  /**
   * A job failed for good: no attempt follows. BullMQ also fails a job this way, without running it, once it
   * has stalled past its limit (its workers died under it twice), so whatever it left half-done is known here.
   */
  onGivenUp?: (job: MeshJob, jobId: string) => void;
}

/** Takes jobs off the queue, parses them at the edge and dispatches them; what a job does is not its business. */
export function startWorker(deps: WorkerDeps): Worker {
  const { log } = deps;

  async function process(job: Job): Promise<unknown> {
    const parsed = jobSchema.safeParse(job.data);
    if (!parsed.success) {
      log.error(
        { jobId: job.id, name: job.name, issues: parsed.error.issues },
        'job payload does not match its schema',
      );
      throw new UnrecoverableError('job payload does not match its schema');
    }
    const data: MeshJob = parsed.data;
    const run: JobRun = {
      jobId: String(job.id),
      log: log.child({
        jobId: job.id,
        job: job.name,
        ...(data.type !== 'schedule' ? { user: data.user, channel: data.channel } : {}),
      }),
      lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
    };
    const started = performance.now();
    let outcome: 'completed' | 'failed' = 'failed';
    try {
      let result: unknown = null;
      switch (data.type) {
        case 'command':
          result = await deps.dispatch.command(data, run);
          break;
        case 'action':
          await deps.dispatch.action(data, run);
          break;
        case 'schedule':
          await deps.dispatch.schedule(data, run);
      }
      outcome = 'completed';
      return result;
    } finally {
      deps.onJobDone?.(job.name, outcome, (performance.now() - started) / 1000);
      run.log.info({ outcome, ms: Math.round(performance.now() - started) }, 'job finished');
    }
  }

  const worker = new Worker(QUEUE_NAME, process, {
    connection: workerConnection(deps.redisTarget),
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    ...(deps.stalledIntervalMs ? { stalledInterval: deps.stalledIntervalMs } : {}),
    ...(deps.lockDurationMs ? { lockDuration: deps.lockDurationMs } : {}),
  });
  worker.on('error', (err) => log.error({ err }, 'worker connection error'));
  worker.on('failed', (job) => {
    // finishedOn is set only when the failure is final; a retried job fails with it unset.
    if (!job?.finishedOn) return;
    const parsed = jobSchema.safeParse(job.data);
    if (parsed.success) deps.onGivenUp?.(parsed.data, String(job.id));
  });
  return worker;
}

/** Stops taking jobs, lets running ones finish within `graceMs`, then forces the rest to stall for another worker. */
export async function closeWorker(worker: Worker, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<'forced'>((resolve) => {
    timer = setTimeout(() => resolve('forced'), graceMs);
  });
  const outcome = await Promise.race([worker.close().then(() => 'clean' as const), forced]);
  clearTimeout(timer);
  if (outcome === 'forced') await worker.close(true);
}
