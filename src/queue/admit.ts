import { randomUUID } from 'node:crypto';
import { type ActionJob, actionJobId, type CommandRequest, QUEUE_NAME } from './jobs.ts';
import type { Lanes } from './lanes.ts';
import { type Producer, QueueUnavailableError, withTimeout } from './producer.ts';
import { GROUP_PENDING_MS, groupKey, JOIN_OR_LEAD, RUN_KEYS_TTL_MS, runKey } from './runs.ts';

/** What the app tells Slack in its ack: the command is queued as its own run, or joined one already queued. */
export type Admission =
  | { outcome: 'queued'; jobId: string }
  /** `parentTs` is set once the run's parent message is posted. */
  | { outcome: 'joined'; jobId: string; parentTs?: string; earlier: string[] };

export interface AdmitOptions {
  /** Commands that change something are never retried blindly. */
  writes: boolean;
  /** Identical requests in one channel share one run while it is queued or running (reads only). */
  coalesce: boolean;
}

export interface Admitter {
  /**
   * Makes the command durable in Redis, or throws QueueUnavailableError within the time bound. The app acks
   * only after this resolves: an acknowledged command survives the app.
   */
  admit(request: CommandRequest, options: AdmitOptions): Promise<Admission>;
  /**
   * The same for a button click: durable (replica wait included) or QueueUnavailableError within the bound,
   * so the app acks a click only once a process killed right after the ack cannot lose it.
   */
  record(click: ActionJob): Promise<void>;
}

/** Slack waits 3 s for the ack; Redis gets 1 s of it, the rest is left for the ack to travel. */
export const ADMIT_TIMEOUT_MS = 1000;

const JOIN_COMMAND = 'meshopsJoinOrLead';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The job id follows Slack's trigger id, so a command delivered twice is queued once. */
export function commandJobId(triggerId: string | undefined): string {
  return `cmd-${(triggerId ?? randomUUID()).replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/**
 * Each admission writes, and waits for replicas, on a lane of its own (`lanes`): WAIT holds the connection it
 * runs on, so admissions arriving together must not queue behind each other's WAIT.
 */
export function createAdmitter(lanes: Lanes, prefix: string, timeoutMs = ADMIT_TIMEOUT_MS): Admitter {
  // The script is defined once per connection (BullMQ may reconnect with a new one), then run by its SHA.
  const defined = new WeakSet<object>();
  async function join(
    lane: Producer,
    request: CommandRequest,
    jobId: string,
    deadline: number,
  ): Promise<Admission | undefined> {
    const client = await lane.queue.getBackend().client;
    if (!defined.has(client)) {
      client.defineCommand(JOIN_COMMAND, { numberOfKeys: 1, lua: JOIN_OR_LEAD });
      defined.add(client);
    }
    const key = groupKey(prefix, request.channel, request.command);
    for (;;) {
      const [outcome, id, parentTs, ...earlier] = (await client.runCommand(JOIN_COMMAND, [
        key,
        jobId,
        request.user,
        prefix,
        QUEUE_NAME,
        GROUP_PENDING_MS,
        RUN_KEYS_TTL_MS,
      ])) as string[];
      if (outcome === 'joined') return { outcome, jobId: id!, ...(parentTs ? { parentTs } : {}), earlier };
      if (outcome === 'lead') return undefined;
      // Another replica claimed the run a moment ago and is still writing its job; rather than wait past the
      // budget, this command becomes a run of its own.
      if (Date.now() + 50 > deadline) return undefined;
      await sleep(10);
    }
  }

  /**
   * The write did not answer in time and the user hears "nothing was queued": if it lands later, the tombstone
   * (sent after it on the same connection, so applied right after it) makes the worker drop the job.
   */
  function abandon(lane: Producer, jobId: string): void {
    void lane.queue
      .getBackend()
      .client.then((client) => client.set(runKey(prefix, jobId, 'abandoned'), '1', { PX: RUN_KEYS_TTL_MS }))
      .catch(() => {});
  }

  /**
   * Resolves once `work` is durable, or rejects within the bound and leaves the tombstone on the lane that
   * wrote (an admission that never got a lane wrote nothing).
   */
  async function durably<T>(
    jobId: string,
    work: (lane: Producer, deadline: number) => Promise<T>,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let wrote: Producer | undefined;
    try {
      // Durable from here: enqueue has also waited for a replica (REDIS_WAIT_REPLICAS) before the ack.
      return await withTimeout(
        lanes.use(deadline, (lane) => {
          wrote = lane;
          return work(lane, deadline);
        }),
        timeoutMs,
      );
    } catch (err) {
      if (wrote) abandon(wrote, jobId);
      throw err instanceof QueueUnavailableError ? err : new QueueUnavailableError(err);
    }
  }

  const left = (deadline: number) => Math.max(1, deadline - Date.now());

  return {
    admit(request, options) {
      const jobId = commandJobId(request.triggerId);
      return durably(jobId, async (lane, deadline): Promise<Admission> => {
        const joined = options.coalesce ? await join(lane, request, jobId, deadline) : undefined;
        if (joined) {
          // The joiner's name is on the run's requesters list: on a replica too before the ack says "joined".
          await lane.replicated(left(deadline));
          return joined;
        }
        await lane.enqueue(request, { writes: options.writes, jobId, timeoutMs: left(deadline) });
        return { outcome: 'queued', jobId };
      });
    },
    async record(click) {
      const jobId = actionJobId(click);
      await durably(jobId, (lane, deadline) =>
        lane.enqueue(click, { writes: true, jobId, timeoutMs: left(deadline) }),
      );
    },
  };
}
