import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Permissions } from '../access/permissions.ts';
import { rewriteParent } from '../approvals/parent.ts';
import { approvalsFor } from '../approvals/request.ts';
import type { JobResult, ReplyPort, UserNames } from '../chat/reply.ts';
import type { MeshConfig } from '../config/schema.ts';
import { historyStore } from '../history/store.ts';
import type { Clusters } from '../kube/registry.ts';
import { type Logger, scrub } from '../observability/logger.ts';
import type { CommandJob, CommandRequest } from '../queue/jobs.ts';
import { ensureParent, recordParentHead } from '../queue/parent.ts';
import { CLOSE_GROUP, groupKey, runKey } from '../queue/runs.ts';
import type { Dispatch, JobRun } from '../queue/worker.ts';
import { MEMBERSHIP_ERRORS, SlackApiError } from '../slack/poster.ts';
import { approvalView } from '../slack/render/approval.ts';
import { splitMessages } from '../slack/render/blocks.ts';
import {
  errorReply,
  failedMessage,
  notInChannelAdvice,
  runningMessage,
  verdictMessage,
} from '../slack/render/parent.ts';
import type { Handlers, JobContext } from './types.ts';

export interface DispatchDeps {
  config: MeshConfig;
  clusters: Clusters;
  redis: Redis;
  prefix: string;
  reply: ReplyPort;
  userName: UserNames;
  permissions: Permissions;
  handlers: Handlers;
  enqueue: JobContext['enqueue'];
  replicated?: JobContext['replicated'];
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
    history: historyStore(deps),
    reply: deps.reply,
    userName: deps.userName,
    permissions: deps.permissions,
    enqueue: deps.enqueue,
    ...(deps.replicated ? { replicated: deps.replicated } : {}),
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

  /** Everyone who asked for the run: its requesters list (reads share runs), or the one requester. */
  async function requestersOf(request: CommandRequest, run: JobRun): Promise<string[]> {
    const list = await deps.redis.lrange(runKey(deps.prefix, run.jobId, 'requesters'), 0, -1);
    return list.length > 0 ? list : [request.user];
  }

  /** Closes the run's group (later commands start a run of their own) and returns its final requesters. */
  async function closeRun(request: CommandRequest, run: JobRun): Promise<string[]> {
    const list = (await deps.redis.eval(
      CLOSE_GROUP,
      2,
      groupKey(deps.prefix, request.channel, request.command),
      runKey(deps.prefix, run.jobId, 'requesters'),
      run.jobId,
    )) as string[];
    return list.length > 0 ? list : [request.user];
  }

  /** The run's parent message, posted once however often the job is attempted. */
  async function parentOf(request: CommandRequest, run: JobRun, users: string[]): Promise<string> {
    try {
      const parent = await ensureParent(deps.redis, runKey(deps.prefix, run.jobId, 'parent'), async () => {
        const posted = await reply.post({ channel: request.channel, ...runningMessage(request.text, users) });
        return posted.ts;
      });
      if (!parent.posted)
        await reply
          .update({ channel: request.channel, ts: parent.ts, ...runningMessage(request.text, users) })
          .catch((err: unknown) => run.log.warn({ err }, 'could not mark the parent running'));
      return parent.ts;
    } catch (err) {
      const membership = err instanceof SlackApiError && MEMBERSHIP_ERRORS.has(err.code);
      run.log.warn({ err }, 'could not post the parent message');
      if (!membership && !run.lastAttempt) throw err;
      await closeRun(request, run);
      if (request.responseUrl)
        await reply
          .respond(
            request.responseUrl,
            membership
              ? notInChannelAdvice((err as SlackApiError).code)
              : `:x: Slack did not accept my message (${reasonOf(err)}), so \`${request.text}\` did not run. Try again shortly.`,
          )
          .catch((e: unknown) => run.log.warn({ err: e }, 'could not reply through response_url'));
      throw new UnrecoverableError(reasonOf(err));
    }
  }

  async function command(request: CommandRequest, run: JobRun): Promise<JobResult | null> {
    const started = Date.now();
    // The app told this command's requester that nothing was queued (Redis answered too late): the run goes
    // ahead only for those who joined it in the meantime, and never names the requester who was told "no".
    const abandoned = (await deps.redis.exists(runKey(deps.prefix, run.jobId, 'abandoned'))) === 1;
    const named = (users: string[]) => (abandoned ? users.slice(1) : users);
    const users = named(await requestersOf(request, run));
    if (users.length === 0) {
      await closeRun(request, run);
      run.log.info('dropped: the app told its requester that nothing was queued');
      return null;
    }
    const parentTs = await parentOf(request, run, users);
    const data: CommandJob = { ...request, parentTs };
    const handler = deps.handlers.commands[data.command.kind] as
      | ((c: typeof data.command, j: CommandJob, ctx: JobContext) => Promise<JobResult>)
      | undefined;
    const parent = { channel: data.channel, ts: parentTs };
    try {
      if (!handler)
        throw new UnrecoverableError(`no handler for "${data.command.kind}" in this worker version`);
      const result = await bounded(timeout, (signal) =>
        handler(data.command, data, contextFor(run.jobId, run.log, signal)),
      );
      for (const blocks of splitMessages(result.blocks)) {
        await reply.post({ channel: data.channel, thread_ts: parentTs, text: result.text, blocks });
      }
      const everyone = named(await closeRun(request, run));
      const verdict = verdictMessage(
        data.text,
        everyone,
        result.verdict,
        result.summary,
        Date.now() - started,
      );
      if (result.awaiting?.length) {
        await recordParentHead(deps.redis, deps.prefix, data.channel, parentTs, {
          commandText: data.text,
          users: everyone,
          requests: [...result.awaiting],
        });
        // An approver may already have decided: the parent then shows the decision, not "approval requested".
        await rewriteParent({ ...deps, log: run.log }, approvalView, parent, { whilePending: verdict });
      } else await reply.update({ ...parent, ...verdict });
      return result;
    } catch (err) {
      const willRetry = !(err instanceof UnrecoverableError) && !run.lastAttempt;
      run.log.error({ err, willRetry }, 'command failed');
      if (willRetry) throw err;
      await reply.post({
        channel: data.channel,
        thread_ts: parentTs,
        ...errorReply(reasonOf(err), run.jobId),
      });
      const everyone = named(await closeRun(request, run));
      await reply.update({ ...parent, ...failedMessage(data.text, everyone, Date.now() - started) });
      throw new UnrecoverableError(reasonOf(err));
    }
  }

  return {
    async command(data, run) {
      const result = await command(data, run);
      return result ? { verdict: result.verdict, summary: result.summary } : null;
    },
    async action(data, run) {
      const handler = deps.handlers.actions[data.action];
      if (!handler) throw new UnrecoverableError(`no handler for action "${data.action}"`);
      // The app told the clicker "not recorded, click again" (Redis answered too late): a late write is not acted on.
      if ((await deps.redis.exists(runKey(deps.prefix, run.jobId, 'abandoned'))) === 1) {
        run.log.info('dropped: the app told the clicker that the click was not recorded');
        return;
      }
      await bounded(timeout, (signal) => handler(data, contextFor(run.jobId, run.log, signal)));
    },
    async schedule(data, run) {
      const handler = deps.handlers.schedule;
      if (!handler) throw new UnrecoverableError('this worker has no schedule handler');
      await bounded(timeout, (signal) => handler(data, contextFor(run.jobId, run.log, signal)));
    },
  };
}
