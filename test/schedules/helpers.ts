import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { createPermissions } from '../../src/access/permissions.ts';
import type { MeshConfig } from '../../src/config/schema.ts';
import { jobContext as workerJobContext } from '../../src/jobs/dispatch.ts';
import { defaultHandlers } from '../../src/jobs/index.ts';
import { createScheduleHandler } from '../../src/jobs/schedule.ts';
import { createScheduleRunHandler } from '../../src/jobs/schedule-commands.ts';
import type { Handlers, JobContext } from '../../src/jobs/types.ts';
import { createClusters } from '../../src/kube/registry.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createRedis, redisOptions } from '../../src/queue/connection.ts';
import { QUEUE_NAME } from '../../src/queue/jobs.ts';
import type { CheckName, CheckReport, RunFinding, ScheduledChecks } from '../../src/schedules/report.ts';
import { createChannelBudget } from '../../src/slack/channel-budget.ts';
import { createPoster } from '../../src/slack/poster.ts';
import { BOT_TOKEN, type LogSink } from '../helpers/harness.ts';
import { REDIS_URL } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Checks whose answer a test sets: for the scheduler's own mechanics (slots, digests, retries), where what
 * the mesh looks like is the input. The real checks against the simulated clusters are in sim.test.ts.
 */
export function settableChecks() {
  const state: Record<CheckName, Omit<CheckReport, 'check'>> = {
    status: { verdict: 'healthy', summary: 'all components ready', findings: [] },
    vpn: { verdict: 'healthy', summary: 'tunnel up', findings: [] },
    proxies: { verdict: 'healthy', summary: 'all proxies in sync', findings: [] },
  };
  const checks: ScheduledChecks = {
    status: async () => ({ check: 'status', ...structuredClone(state.status) }),
    vpn: async () => ({ check: 'vpn', ...structuredClone(state.vpn) }),
    proxies: async () => ({ check: 'proxies', ...structuredClone(state.proxies) }),
  };
  return {
    checks,
    healthy(check: CheckName = 'status') {
      state[check] = {
        verdict: 'healthy',
        summary: { status: 'all components ready', vpn: 'tunnel up', proxies: 'all proxies in sync' }[check],
        findings: [],
      };
    },
    degrade(check: CheckName, ...findings: RunFinding[]) {
      state[check] = { verdict: 'degraded', summary: `${findings.length} problem(s)`, findings };
    },
  };
}

export const finding = (id: string, text = id): RunFinding => ({ id, severity: 'warning', text });

export function handlersWith(checks: ScheduledChecks): Handlers {
  const base = defaultHandlers();
  return {
    ...base,
    commands: { ...base.commands, 'schedule-run': createScheduleRunHandler(checks) },
    schedule: createScheduleHandler(checks),
  };
}

export function queueFor(prefix: string): Queue {
  return new Queue(QUEUE_NAME, { connection: redisOptions(REDIS_URL), prefix });
}

/** A manual tick: queues the same `schedule` job a scheduler would, and waits until a worker finished it. */
export async function tick(queue: Queue, name: string): Promise<'completed' | 'failed'> {
  const job = await queue.add(
    `schedule:${name}`,
    { type: 'schedule', name, trigger: 'cron' },
    { jobId: `tick-${randomUUID()}` },
  );
  return waitFor(`job ${job.id} to finish`, async () => {
    const state = await queue.getJobState(job.id!);
    return state === 'completed' || state === 'failed' ? state : undefined;
  });
}

/** The context a worker hands a job, for calling a handler directly (a second delivery of the same slot). */
export function jobContext(options: {
  config: MeshConfig;
  prefix: string;
  slackUrl: string;
  jobId: string;
  logs: LogSink;
}): JobContext & { close(): void } {
  const log = createLogger('debug', options.logs);
  const redis = createRedis(REDIS_URL);
  const ctx = workerJobContext(
    {
      config: options.config,
      clusters: createClusters(options.config),
      redis,
      prefix: options.prefix,
      reply: createPoster({
        token: BOT_TOKEN,
        apiUrl: options.slackUrl,
        log,
        budget: createChannelBudget({ redis, prefix: options.prefix, log }),
      }),
      userName: async (user) => user,
      permissions: createPermissions(options.config.access, async () => []),
      enqueue: async () => {
        throw new Error('not used');
      },
    },
    { jobId: options.jobId, log, signal: new AbortController().signal },
  );
  return { ...ctx, close: () => redis.disconnect() };
}
