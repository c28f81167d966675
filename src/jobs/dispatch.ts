import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Permissions } from '../access/permissions.ts';
import { approvalsFor } from '../approvals/request.ts';
import type { JobResult, ReplyPort } from '../chat/reply.ts';
import type { MeshConfig } from '../config/schema.ts';
import type { Clusters } from '../kube/registry.ts';
import { type Logger, scrub } from '../observability/logger.ts';
import type { CommandJob } from '../queue/jobs.ts';
import type { Dispatch, JobRun } from '../queue/worker.ts';
import { approvalView } from '../slack/render/approval.ts';
import { splitMessages } from '../slack/render/blocks.ts';
import { errorReply, failedMessage, runningMessage, verdictMessage } from '../slack/render/parent.ts';
import type { Handlers, JobContext } from './types.ts';

export interface DispatchDeps {
  config: MeshConfig;
  clusters: Clusters;
  redis: Redis;
  prefix: string;
  reply: ReplyPort;
  permissions: Permissions;
  handlers: Handlers;
  enqueue: JobContext['enqueue'];
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

/** The context one job's handler gets: the worker's deps, the job's log and time bound, approvals through Slack. */
export function jobContext(
  deps: Omit<DispatchDeps, 'handlers'>,
  run: { jobId: string; log: Logger; signal: AbortSignal },
): JobContext {
  const base = {
    ...run,
    config: deps.config,
    clusters: deps.clusters,
    redis: deps.redis,
    prefix: deps.prefix,
    reply: deps.reply,
    permissions: deps.permissions,
    enqueue: deps.enqueue,
  };
  return { ...base, approvals: approvalsFor(base, approvalView) };
}

/**
 * The handlers behind the worker: each job gets its context, runs under `jobs.timeout`, and a command's
 * parent message follows it (running, then its verdict, or failed with the reason in the thread).
 */
export function createDispatch(deps: DispatchDeps): Dispatch {
  const { reply } = deps;
  const contextFor = (jobId: string, log: Logger, signal: AbortSignal): JobContext =>
    jobContext(deps, { jobId, log, signal });
  const timeout = deps.config.jobs.timeout;

  async function command(data: CommandJob, run: JobRun): Promise<JobResult> {
    const started = Date.now();
    const handler = deps.handlers.commands[data.command.kind] as
      | ((c: typeof data.command, j: CommandJob, ctx: JobContext) => Promise<JobResult>)
      | undefined;
    const parent = { channel: data.channel, ts: data.parentTs };
    await reply
      .update({ ...parent, ...runningMessage(data.text, data.user) })
      .catch((err: unknown) => run.log.warn({ err }, 'could not mark the parent running'));
    try {
      if (!handler)
        throw new UnrecoverableError(`no handler for "${data.command.kind}" in this worker version`);
      const result = await bounded(timeout, (signal) =>
        handler(data.command, data, contextFor(run.jobId, run.log, signal)),
      );
      for (const blocks of splitMessages(result.blocks)) {
        await reply.post({ channel: data.channel, thread_ts: data.parentTs, text: result.text, blocks });
      }
      await reply.update({
        ...parent,
        ...verdictMessage(data.text, data.user, result.verdict, result.summary, Date.now() - started),
      });
      return result;
    } catch (err) {
      const willRetry = !(err instanceof UnrecoverableError) && !run.lastAttempt;
      run.log.error({ err, willRetry }, 'command failed');
      if (willRetry) throw err;
      await reply.post({
        channel: data.channel,
        thread_ts: data.parentTs,
        ...errorReply(reasonOf(err), run.jobId),
      });
      await reply.update({ ...parent, ...failedMessage(data.text, data.user, Date.now() - started) });
      throw new UnrecoverableError(reasonOf(err));
    }
  }

  return {
    async command(data, run) {
      const { verdict, summary } = await command(data, run);
      return { verdict, summary };
    },
    async action(data, run) {
      const handler = deps.handlers.actions[data.action];
      if (!handler) throw new UnrecoverableError(`no handler for action "${data.action}"`);
      await bounded(timeout, (signal) => handler(data, contextFor(run.jobId, run.log, signal)));
    },
    async schedule(data, run) {
      const handler = deps.handlers.schedule;
      if (!handler) throw new UnrecoverableError('this worker has no schedule handler');
      await bounded(timeout, (signal) => handler(data, contextFor(run.jobId, run.log, signal)));
    },
  };
}
