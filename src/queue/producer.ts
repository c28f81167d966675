import { type JobsOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { producerConnection, type RedisLocation } from './connection.ts';
import { jobName, type MeshJob, QUEUE_NAME } from './jobs.ts';
import { createReplicaWait, type ReplicaWaitOptions } from './replication.ts';

export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the job queue (Redis) is unavailable', { cause });
    this.name = 'QueueUnavailableError';
  }
}

export interface Producer {
  readonly queue: Queue;
  enqueue(
    job: MeshJob,
    options?: { writes?: boolean; jobId?: string; delayMs?: number; timeoutMs?: number },
  ): Promise<string>;
  /**
   * Waits, bounded, until replicas hold every write made on the queue's connection so far (admission's own
   * scripts run there too). Never throws: a short wait is reported through `replicas.onShort`.
   */
  replicated(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const KEEP = {
  removeOnComplete: { age: 24 * 3600, count: 2000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
} as const;

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
    }),
  ]);
}

/** Time kept back from a bound for WAIT's answer to come back over the connection (and a busy event loop). */
const REPLY_MARGIN_MS = 100;
const replicaBound = (deadline: number) => deadline - Date.now() - REPLY_MARGIN_MS;

export interface ProducerOptions {
  addTimeoutMs?: number;
  replicas?: ReplicaWaitOptions;
}

export function createProducer(
  location: RedisLocation,
  prefix: string,
  options: ProducerOptions = {},
): Producer {
  const addTimeoutMs = options.addTimeoutMs ?? 1500;
  // Our own connection, handed to the Queue, so WAIT runs on the connection that wrote the job.
  const connection = new Redis(producerConnection(location));
  connection.on('error', () => {});
  const queue = new Queue(QUEUE_NAME, { connection, prefix });
  // A Queue emits 'error' on every failed reconnect; without a listener Node would crash the app.
  queue.on('error', () => {});
  const waitForReplicas = createReplicaWait(options.replicas);
  return {
    queue,
    async enqueue(job, options = {}) {
      const opts: JobsOptions = {
        ...KEEP,
        // Read-only work may be retried once; writes never blindly (their handlers claim idempotency keys).
        attempts: options.writes ? 1 : 2,
        backoff: { type: 'fixed', delay: 1000 },
        ...(options.jobId ? { jobId: options.jobId } : {}),
        ...(options.delayMs ? { delay: options.delayMs } : {}),
      };
      const deadline = Date.now() + (options.timeoutMs ?? addTimeoutMs);
      try {
        const added = await withTimeout(queue.add(jobName(job), job, opts), deadline - Date.now());
        // Acked means durable: a failover right after the ack must find the command on the new master. The WAIT
        // ends within this enqueue's bound, so a lane taken late still acks (the short wait is reported).
        await withTimeout(waitForReplicas(connection, replicaBound(deadline)), deadline - Date.now());
        return String(added.id);
      } catch (err) {
        throw new QueueUnavailableError(err);
      }
    },
    async replicated(timeoutMs) {
      const deadline = Date.now() + (timeoutMs ?? addTimeoutMs);
      await withTimeout(waitForReplicas(connection, replicaBound(deadline)), deadline - Date.now()).catch(
        () => {},
      );
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
