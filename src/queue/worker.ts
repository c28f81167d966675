import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Permissions } from '../access/permissions.ts';
import type { MeshConfig } from '../config/schema.ts';
import type { Handlers, JobContext, JobResult } from '../jobs/types.ts';
import type { Clusters } from '../kube/registry.ts';
import { type Logger, scrub } from '../observability/logger.ts';
import { splitMessages } from '../slack/blocks.ts';
import type { SlackPoster } from '../slack/poster.ts';
import { errorReply, failedMessage, runningMessage, verdictMessage } from '../slack/render/parent.ts';
import { type RedisLocation, workerConnection } from './connection.ts';
import { type CommandJob, jobSchema, type MeshJob, QUEUE_NAME } from './jobs.ts';

export interface WorkerDeps {
  redisTarget: RedisLocation;
  prefix: string;
  config: MeshConfig;
  clusters: Clusters;
  redis: Redis;
  slack: SlackPoster;
  log: Logger;
  handlers: Handlers;
  permissions: Permissions;
  enqueue: JobContext['enqueue'];
  /** Lets tests shorten stall detection; production keeps BullMQ's 30 s. */
  stalledIntervalMs?: number;
  lockDurationMs?: number;
  onJobDone?: (name: string, outcome: 'completed' | 'failed', seconds: number) => void;
}

export class JobTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${Math.round(ms / 1000)} s`);
    this.name = 'JobTimeoutError';
  }
}

/** Runs `work` under the job's time bound; the signal tells cooperative handlers to stop early. */
async function bounded<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new JobTimeoutError(ms));
      reject(new JobTimeoutError(ms));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return scrub(message.split('\n')[0] ?? message).slice(0, 500);
}

export function startWorker(deps: WorkerDeps): Worker {
  const { log } = deps;

  const contextFor = (jobId: string, jobLog: Logger, signal: AbortSignal): JobContext => ({
    jobId,
    config: deps.config,
    clusters: deps.clusters,
    redis: deps.redis,
    prefix: deps.prefix,
    slack: deps.slack,
    log: jobLog,
    signal,
    permissions: deps.permissions,
    enqueue: deps.enqueue,
  });

  async function runCommand(job: Job, data: CommandJob, jobLog: Logger): Promise<JobResult> {
    const started = Date.now();
    const handler = deps.handlers.commands[data.command.kind] as
      | ((c: typeof data.command, j: CommandJob, ctx: JobContext) => Promise<JobResult>)
      | undefined;
    const parent = { channel: data.channel, ts: data.parentTs };
    await deps.slack
      .update({ ...parent, ...runningMessage(data.text, data.user) })
      .catch((err: unknown) => jobLog.warn({ err }, 'could not mark the parent running'));
    try {
      if (!handler)
        throw new UnrecoverableError(`no handler for "${data.command.kind}" in this worker version`);
      const result = await bounded(deps.config.jobs.timeout, (signal) =>
        handler(data.command, data, contextFor(String(job.id), jobLog, signal)),
      );
      for (const blocks of splitMessages(result.blocks)) {
        await deps.slack.post({ channel: data.channel, thread_ts: data.parentTs, text: result.text, blocks });
      }
      await deps.slack.update({
        ...parent,
        ...verdictMessage(data.text, data.user, result.verdict, result.summary, Date.now() - started),
      });
      return result;
    } catch (err) {
      const attempts = job.opts.attempts ?? 1;
      const willRetry = !(err instanceof UnrecoverableError) && job.attemptsMade + 1 < attempts;
      jobLog.error({ err, willRetry }, 'command failed');
      if (willRetry) throw err;
      await deps.slack.post({
        channel: data.channel,
        thread_ts: data.parentTs,
        ...errorReply(reasonOf(err), String(job.id)),
      });
      await deps.slack.update({ ...parent, ...failedMessage(data.text, data.user, Date.now() - started) });
      throw new UnrecoverableError(reasonOf(err));
    }
  }

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
    const jobLog = log.child({
      jobId: job.id,
      job: job.name,
      ...(data.type !== 'schedule' ? { user: data.user, channel: data.channel } : {}),
    });
    const started = performance.now();
    let outcome: 'completed' | 'failed' = 'failed';
    try {
      switch (data.type) {
        case 'command': {
          const result = await runCommand(job, data, jobLog);
          outcome = 'completed';
          return { verdict: result.verdict, summary: result.summary };
        }
        case 'action': {
          const handler = deps.handlers.actions[data.action];
          if (!handler) throw new UnrecoverableError(`no handler for action "${data.action}"`);
          await bounded(deps.config.jobs.timeout, (signal) =>
            handler(data, contextFor(String(job.id), jobLog, signal)),
          );
          outcome = 'completed';
          return null;
        }
        case 'schedule': {
          const handler = deps.handlers.schedule;
          if (!handler) throw new UnrecoverableError('this worker has no schedule handler');
          await bounded(deps.config.jobs.timeout, (signal) =>
            handler(data, contextFor(String(job.id), jobLog, signal)),
          );
          outcome = 'completed';
          return null;
        }
      }
    } finally {
      deps.onJobDone?.(job.name, outcome, (performance.now() - started) / 1000);
      jobLog.info({ outcome, ms: Math.round(performance.now() - started) }, 'job finished');
    }
  }

  const worker = new Worker(QUEUE_NAME, process, {
    connection: workerConnection(deps.redisTarget),
    prefix: deps.prefix,
    concurrency: deps.config.jobs.concurrency,
    ...(deps.stalledIntervalMs ? { stalledInterval: deps.stalledIntervalMs } : {}),
    ...(deps.lockDurationMs ? { lockDuration: deps.lockDurationMs } : {}),
  });
  worker.on('error', (err) => log.error({ err }, 'worker connection error'));
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
