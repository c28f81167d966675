import type { Server } from 'node:http';
import type { Worker } from 'bullmq';
import type { DestinationStream } from 'pino';
import { createAudit } from './access/audit.ts';
import { createPermissions } from './access/permissions.ts';
import { createRateLimiter } from './access/rate-limit.ts';
import { APPROVAL_SWEEP_MS, approvalSweepJob, mayLeaveApplying } from './approvals/actions.ts';
import type { Env, Role } from './config/env.ts';
import { type LoadedConfig, loadConfig } from './config/load.ts';
import { describeTarget, redisTarget } from './config/redis.ts';
import type { MeshConfig } from './config/schema.ts';
import { createDispatch } from './jobs/dispatch.ts';
import { defaultHandlers } from './jobs/index.ts';
import type { Handlers } from './jobs/types.ts';
import { createClusters } from './kube/registry.ts';
import { presetsFor } from './mesh/routing/presets.ts';
import { healthzRoute, opsRoutes, startOpsServer } from './observability/http.ts';
import { createLogger, type Logger, registerSecret } from './observability/logger.ts';
import { metrics } from './observability/metrics.ts';
import { createAdmitter } from './queue/admit.ts';
import { createRedis } from './queue/connection.ts';
import { createLanes } from './queue/lanes.ts';
import { createProducer, type ProducerOptions, withTimeout } from './queue/producer.ts';
import { checkRedisAtStart } from './queue/redis-facts.ts';
import { createReplicaWait, REPLICA_WAIT_MS } from './queue/replication.ts';
import { closeWorker, startWorker } from './queue/worker.ts';
import { syncAtStart } from './schedules/sync.ts';
import { createSlackApp } from './slack/app.ts';
import { createChannelBudget } from './slack/channel-budget.ts';
import { createPoster, createSlackClient } from './slack/poster.ts';
import { createEnvelopeDedupe } from './slack/socket/dedupe.ts';
import type { SocketMode, SocketModeOptions } from './slack/socket/receiver.ts';
import { createUserNames } from './slack/users.ts';

export interface StartOptions {
  role: Role;
  env: Env;
  /** An already parsed config (tests, demo); otherwise MESHOPS_CONFIG is loaded. */
  config?: MeshConfig | LoadedConfig;
  handlers?: Handlers;
  logDestination?: DestinationStream;
  /** Listen address for the app; tests bind 127.0.0.1 on port 0. */
  host?: string;
  /** How long SIGTERM waits for running jobs before leaving them to another worker (default shutdownGrace). */
  shutdownGraceMs?: number;
  stalledIntervalMs?: number;
  lockDurationMs?: number;
  /** How often the worker looks for requests left "applying" (APPROVAL_SWEEP_MS; tests shorten it). */
  approvalSweepMs?: number;
  /** The bound on the per-user rate check before an ack (tests that count refusals lengthen it). */
  rateCheckTimeoutMs?: number;
  /** Socket Mode timings (tests shorten the watchdog's). */
  socketMode?: Pick<SocketModeOptions, 'watchdog' | 'ackDeadlineMs'>;
}

export interface Meshops {
  log: Logger;
  config: MeshConfig;
  /** The app's HTTP server, when the role includes the app. */
  server?: Server;
  worker?: Worker;
  /** Base URL of the app, e.g. http://127.0.0.1:3000. */
  url?: string;
  /** Base URL of /healthz, /readyz and /metrics (OPS_PORT), in every role. */
  opsUrl: string;
  opsServer?: Server;
  /** Set when the app runs in Socket Mode (SLACK_APP_TOKEN). */
  socketMode?: SocketMode;
  stop(): Promise<void>;
}

/**
 * How long SIGTERM waits for running jobs: the longest a job may run (jobs.timeout bounds every one; a drift
 * restart takes up to three quarters of it) and a little for its last Slack update. A job cut short is
 * re-run by another worker, which is safe but slower than letting it finish.
 */
export const shutdownGrace = (config: Pick<MeshConfig, 'jobs'>) => config.jobs.timeout + 5_000;

export async function startMeshops(options: StartOptions): Promise<Meshops> {
  const { env, role } = options;
  const log = createLogger(env.LOG_LEVEL, options.logDestination);
  const closing = new AbortController();
  const target = { ...redisTarget(env), closing: closing.signal };
  for (const secret of [
    env.SLACK_BOT_TOKEN,
    env.SLACK_SIGNING_SECRET,
    env.SLACK_APP_TOKEN,
    target.password,
    target.sentinelPassword,
  ])
    registerSecret(secret);
  const config = options.config ?? loadConfig(env.MESHOPS_CONFIG);
  // A bad preset stops start-up (ConfigError naming file, document and field) in every role.
  const presets = presetsFor(config.routing);
  // Only workers talk to clusters: the internet-facing app holds no cluster credentials at all.
  const clusters =
    role === 'app'
      ? undefined
      : createClusters(config, (cluster, err) =>
          log.error({ err, cluster }, 'the changed kubeconfig does not load; still using the previous one'),
        );
  const redis = createRedis(target);
  redis.on('error', (err) => log.debug({ err }, 'redis connection error'));
  try {
    await checkRedisAtStart(redis, describeTarget(target), log);
  } catch (err) {
    redis.disconnect();
    closing.abort();
    throw err;
  }
  const producerOptions: ProducerOptions = {
    replicas: {
      wanted: env.REDIS_WAIT_REPLICAS,
      onShort: (wanted, acked) => {
        metrics.redisReplicaWaitShort.inc();
        log.warn({ wanted, acked }, 'a command was acked before a Redis replica confirmed it');
      },
    },
  };
  const producer = createProducer(target, env.REDIS_PREFIX, producerOptions);
  // The worker's approval decisions are written on `redis`: the same wait as an acked command's.
  const approvalReplicaWait = createReplicaWait({
    wanted: env.REDIS_WAIT_REPLICAS,
    onShort: (wanted, acked) => {
      metrics.redisReplicaWaitShort.inc();
      log.warn({ wanted, acked }, 'an approval write went on before a Redis replica confirmed it');
    },
  });
  const poster = createPoster({
    token: env.SLACK_BOT_TOKEN!,
    apiUrl: env.SLACK_API_URL,
    log,
    budget: createChannelBudget({ redis, prefix: env.REDIS_PREFIX, log }),
    onRateLimited: (method) => metrics.slackRateLimited.inc({ method }),
    onError: (method, code) => metrics.slackErrors.inc({ method, code }),
  });
  const handlers = options.handlers ?? defaultHandlers();
  const closers: (() => Promise<unknown>)[] = [];
  // One BullMQ job scheduler per `schedules:` entry, in every role: it is idempotent across replicas.
  const stopScheduleSync = await syncAtStart(producer.queue, config.schedules, log);
  closers.push(async () => stopScheduleSync());
  const result: Meshops = { log, config, opsUrl: '', stop: async () => {} };
  let draining = false;
  let socketMode: SocketMode | undefined;
  const routes = opsRoutes({
    checks: (): Record<string, boolean> => (socketMode ? { socketMode: socketMode.isConnected() } : {}),
    ready: async () => {
      if (draining) return false;
      try {
        return (await withTimeout(redis.ping(), 1000)) === 'PONG';
      } catch {
        return false;
      }
    },
    // One series per fact: the queue is shared, so only the app role reports its depth, not every worker.
    beforeScrape: async () => {
      if (role === 'worker') return;
      const counts = await withTimeout(
        producer.queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
        1000,
      );
      for (const [state, n] of Object.entries(counts)) metrics.queueJobs.set({ state }, n);
    },
  });

  // The app checks who may request; the worker checks who may approve. Both resolve Slack user groups; the
  // worker also names people in its charts.
  const lookupClient = createSlackClient(env.SLACK_BOT_TOKEN!, env.SLACK_API_URL, 3000);
  const permissions = createPermissions(
    config.access,
    async (group) => {
      const res = await lookupClient.usergroups.users.list({ usergroup: group });
      return res.users ?? [];
    },
    { onLookupFailed: (group, err) => log.warn({ group, err }, 'user group lookup failed; not remembered') },
  );

  const audit = createAudit({
    redis,
    prefix: env.REDIS_PREFIX,
    retentionMs: config.audit.retention,
    maxEntries: config.audit.maxEntries,
    log,
  });

  if (role !== 'worker') {
    const lanes = createLanes(() => createProducer(target, env.REDIS_PREFIX, producerOptions));
    // Series that will exist are exported at 0 from the start, so "no reconnects" reads as 0, not as no data.
    for (const reason of ['disconnect', 'stale'] as const) metrics.socketReconnects.inc({ reason }, 0);
    const slackApp = createSlackApp({
      signingSecret: env.SLACK_SIGNING_SECRET,
      ...(env.SLACK_APP_TOKEN
        ? {
            socketMode: {
              appToken: env.SLACK_APP_TOKEN,
              dedupe: createEnvelopeDedupe({ redis, prefix: env.REDIS_PREFIX, log }),
              onReconnect: (reason) => metrics.socketReconnects.inc({ reason }),
              ...options.socketMode,
            },
          }
        : {}),
      botToken: env.SLACK_BOT_TOKEN!,
      apiUrl: env.SLACK_API_URL,
      log,
      admitter: createAdmitter(lanes, env.REDIS_PREFIX),
      permissions,
      routes: [healthzRoute],
      rateLimit: createRateLimiter(
        redis,
        env.REDIS_PREFIX,
        config.access.rateLimit.commands,
        config.access.rateLimit.per,
      ),
      ...(options.rateCheckTimeoutMs !== undefined ? { rateCheckTimeoutMs: options.rateCheckTimeoutMs } : {}),
      onCommand: (subcommand, outcome) => metrics.commands.inc({ subcommand, outcome }),
      onForbidden: (refusal) =>
        void audit
          .record({
            action: 'refused',
            who: refusal.user,
            kind: 'command',
            subject: refusal.text,
            result: `not queued: ${refusal.reason}`,
          })
          .catch((err: unknown) => log.warn({ err }, 'could not record a refusal in the audit stream')),
      parseContext: {
        clusters: config.clusters.map((c) => ({ name: c.name, role: c.role })),
        presets: presets.map((p) => p.name),
        schedules: config.schedules.map((s) => s.name),
      },
    });
    // Known before start, so /readyz is unready while the first connection is being made.
    socketMode = slackApp.socketMode;
    const server = await slackApp.start(env.PORT, options.host);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : env.PORT;
    result.server = server;
    result.url = `http://${options.host ?? '127.0.0.1'}:${port}`;
    closers.push(() => slackApp.stop());
    closers.push(() => lanes.close());
    if (socketMode) {
      result.socketMode = socketMode;
      log.info({ port, role }, 'Slack app in Socket Mode; /healthz on this port');
    } else log.info({ port, role }, 'Slack app listening on /slack/events');
  }

  // Every role, the worker included, is scraped and probed here; the app's public port has /healthz only.
  const ops = await startOpsServer(env.OPS_PORT, env.OPS_HOST ?? options.host, routes);
  const opsAddress = ops.address();
  const opsPort = typeof opsAddress === 'object' && opsAddress ? opsAddress.port : env.OPS_PORT;
  result.opsUrl = `http://${env.OPS_HOST ?? options.host ?? '127.0.0.1'}:${opsPort}`;
  result.opsServer = ops;
  closers.push(() => new Promise<void>((resolve) => ops.close(() => resolve())));
  log.info({ port: opsPort, role }, '/healthz, /readyz and /metrics on the ops port');

  if (clusters) {
    // Requests left "applying" by a job that will never run again: looked for at start, every period after,
    // and as soon as an approve job is given up.
    const sweep = (actionTs: string) => {
      const { job, jobId } = approvalSweepJob(actionTs, Date.now());
      producer
        .enqueue(job, { writes: true, jobId })
        .catch((err: unknown) => log.warn({ err }, 'could not queue the approval sweep'));
    };
    const worker = startWorker({
      redisTarget: target,
      prefix: env.REDIS_PREFIX,
      concurrency: config.jobs.concurrency,
      log,
      dispatch: createDispatch({
        config,
        prefix: env.REDIS_PREFIX,
        clusters,
        redis,
        reply: poster,
        userName: createUserNames(lookupClient, {
          onLookupFailed: (user, err) => log.warn({ user, err }, 'user name lookup failed; the id is shown'),
        }),
        handlers,
        permissions,
        enqueue: (job, opts) => producer.enqueue(job, { writes: true, ...opts }),
        replicated: () =>
          withTimeout(approvalReplicaWait(redis), REPLICA_WAIT_MS * 2).then(
            () => {},
            (err: unknown) => log.warn({ err }, 'no answer to the replica wait after an approval write'),
          ),
      }),
      onJobDone: (job, outcome, seconds) => metrics.jobDuration.observe({ job, outcome }, seconds),
      // Its request is concluded now, not at the next periodic sweep up to a minute later.
      onGivenUp: (job, jobId) => {
        if (mayLeaveApplying(job)) sweep(`sweep-after-${jobId}`);
      },
      ...(options.stalledIntervalMs ? { stalledIntervalMs: options.stalledIntervalMs } : {}),
      ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
    });
    result.worker = worker;
    sweep(`sweep-start-${Date.now()}`);
    const sweepMs = options.approvalSweepMs ?? APPROVAL_SWEEP_MS;
    const sweeps = setInterval(() => sweep(`sweep-${Math.floor(Date.now() / sweepMs)}`), sweepMs);
    sweeps.unref();
    closers.push(async () => clearInterval(sweeps));
    closers.push(() => closeWorker(worker, options.shutdownGraceMs ?? shutdownGrace(config)));
    log.info({ concurrency: config.jobs.concurrency, clusters: clusters.names() }, 'worker started');
  }

  // The app stops taking requests first; the worker finishes what it holds; Redis closes last.
  result.stop = async () => {
    draining = true;
    for (const close of closers)
      await close().catch((err: unknown) => log.error({ err }, 'shutdown step failed'));
    await producer.close().catch(() => {});
    redis.disconnect();
    closing.abort();
    log.info('stopped');
  };
  return result;
}
