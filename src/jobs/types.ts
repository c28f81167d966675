import type { Redis } from 'ioredis';
import type { Permissions } from '../access/permissions.ts';
import type { JobResult, ReplyPort, UserNames } from '../chat/reply.ts';
import type { MeshConfig } from '../config/schema.ts';
import type { Clusters } from '../kube/registry.ts';
import type { Approvals, Requester } from '../mesh/change.ts';
import type { HistoryPort } from '../mesh/history.ts';
import type { Logger } from '../observability/logger.ts';
import type {
  ActionJob,
  CommandJob,
  CommandKind,
  CommandOf,
  EnqueueOptions,
  MeshJob,
  ScheduleJob,
} from '../queue/jobs.ts';

/** Everything a handler may touch. Handlers get no Bolt objects: the worker owns Slack I/O. */
export interface JobContext {
  readonly jobId: string;
  readonly config: MeshConfig;
  readonly clusters: Clusters;
  readonly redis: Redis;
  /** Key prefix for every Redis key the handler writes (isolates tests and deployments). */
  readonly prefix: string;
  /** Where status, VPN and proxy runs are kept (bounded by history.maxEntries and history.maxAge). */
  readonly history: HistoryPort;
  /** The one port messages go out through. */
  readonly reply: ReplyPort;
  /** People's names where a mention cannot be rendered (a chart). */
  readonly userName: UserNames;
  /** Puts a planned change up for approval. */
  readonly approvals: Approvals;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Who may operate and approve (Slack user groups resolved), for decisions made in the worker. */
  readonly permissions: Permissions;
  /**
   * Queues a follow-up job (e.g. verification after an apply) on the same queue; `delayMs` runs it later
   * (an approval's expiry), and a `jobId` makes queueing it twice queue it once.
   */
  enqueue(job: MeshJob, options?: EnqueueOptions): Promise<string>;
  /** Waits, bounded, until Redis replicas hold what was written on `redis` so far (approval decisions). */
  replicated?(): Promise<void>;
}

export type CommandHandler<K extends CommandKind = CommandKind> = (
  command: CommandOf<K>,
  job: CommandJob,
  ctx: JobContext,
) => Promise<JobResult>;

/** Button clicks: the handler updates the messages it owns itself; a returned result goes into the thread. */
export type ActionHandler = (job: ActionJob, ctx: JobContext) => Promise<void>;

export type ScheduleHandler = (job: ScheduleJob, ctx: JobContext) => Promise<void>;

export type CommandHandlers = { [K in CommandKind]?: CommandHandler<K> };

export interface Handlers {
  commands: CommandHandlers;
  actions: Record<string, ActionHandler>;
  schedule?: ScheduleHandler;
}

/** The user who typed the command, asking in its channel, pointing back at its parent message. */
export const requesterOf = (job: CommandJob): Requester => ({
  requester: job.user,
  channel: job.channel,
  threadTs: job.parentTs,
});
