import { z } from 'zod';

/**
 * Every job a worker runs, as one typed payload per job name. Jobs are parsed at the worker's edge:
 * a payload written by an older or newer app version fails loudly instead of half-running.
 */

const clusterName = z.string().min(1);
const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/);

export const commandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('clusters') }),
  z.object({ kind: z.literal('status'), cluster: clusterName.optional() }),
  z.object({ kind: z.literal('vpn') }),
  z.object({ kind: z.literal('proxies'), cluster: clusterName.optional() }),
  z.object({ kind: z.literal('certs'), cluster: clusterName.optional() }),
  z.object({
    kind: z.literal('ping'),
    from: clusterName,
    target: z.discriminatedUnion('type', [
      z.object({ type: z.literal('cluster'), name: clusterName }),
      z.object({ type: z.literal('ip'), ip: ipv4 }),
    ]),
  }),
  z.object({ kind: z.literal('route-list') }),
  z.object({ kind: z.literal('route-show'), virtualService: z.string().optional() }),
  z.object({ kind: z.literal('route-diff'), preset: z.string() }),
  z.object({ kind: z.literal('route-apply'), preset: z.string() }),
  z.object({ kind: z.literal('route-rollback') }),
  z.object({ kind: z.literal('audit'), limit: z.number().int().positive() }),
  z.object({ kind: z.literal('schedule-list') }),
  z.object({ kind: z.literal('schedule-run'), name: z.string() }),
  z.object({ kind: z.literal('schedule-pause'), name: z.string() }),
  z.object({ kind: z.literal('schedule-resume'), name: z.string() }),
  z.object({ kind: z.literal('repair-drift'), remote: clusterName.optional() }),
]);

export type Command = z.infer<typeof commandSchema>;
export type CommandKind = Command['kind'];
export type CommandOf<K extends CommandKind> = Extract<Command, { kind: K }>;

const requestFields = {
  user: z.string().min(1),
  channel: z.string().min(1),
  requestedAt: z.number().int(),
};

/**
 * A slash command as the app writes it to Redis before acknowledging it: everything a worker needs to answer it,
 * with nothing left in the app's memory. The worker posts the parent message (see ./parent.ts).
 */
export const commandJobSchema = z.object({
  type: z.literal('command'),
  command: commandSchema,
  /** The text as typed, for messages and the audit log. */
  text: z.string(),
  ...requestFields,
  /** Where the worker tells the requester what it cannot say in the channel (e.g. "invite me"). */
  responseUrl: z.string().url().optional(),
  triggerId: z.string().optional(),
});

/** A button click (approve / reject / a second-step action), run by a worker so writes never happen in the app. */
export const actionJobSchema = z.object({
  type: z.literal('action'),
  action: z.string().min(1),
  value: z.string(),
  ...requestFields,
  messageTs: z.string().min(1),
  /** Slack's id for this click; the job id is derived from it so a redelivered click queues nothing new. */
  actionTs: z.string().min(1),
});

export const scheduleJobSchema = z.object({
  type: z.literal('schedule'),
  name: z.string().min(1),
  /** "manual" for `/mesh schedule run`; scheduler runs carry no trigger. */
  trigger: z.enum(['cron', 'manual']).default('cron'),
  user: z.string().optional(),
});

export const jobSchema = z.discriminatedUnion('type', [commandJobSchema, actionJobSchema, scheduleJobSchema]);

export type CommandRequest = z.infer<typeof commandJobSchema>;
/** A command once its parent message exists: what handlers get, to answer in its thread. */
export type CommandJob = CommandRequest & { parentTs: string };
export type ActionJob = z.infer<typeof actionJobSchema>;
export type ScheduleJob = z.infer<typeof scheduleJobSchema>;
export type MeshJob = z.infer<typeof jobSchema>;

export const QUEUE_NAME = 'mesh-jobs';

export interface EnqueueOptions {
  /** Runs the job this much later (an approval's expiry). */
  delayMs?: number;
  /** Queueing a job with the same id twice queues it once. */
  jobId?: string;
}

/**
 * The job id of a click, and of an internal action queued like one: a click delivered twice is queued once,
 * and an approval's claim (`<actionTs>/<user>`) names the job that holds it.
 */
export function actionJobId(action: Pick<ActionJob, 'actionTs' | 'user'>): string {
  return `click-${action.actionTs.replace('.', '-')}-${action.user}`;
}

/** Job names as BullMQ sees them: one per command kind, action and schedule, so metrics and logs tell them apart. */
export function jobName(job: MeshJob): string {
  switch (job.type) {
    case 'command':
      return job.command.kind;
    case 'action':
      return `action:${job.action}`;
    case 'schedule':
      return `schedule:${job.name}`;
  }
}
