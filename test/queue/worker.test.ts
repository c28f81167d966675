import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { freePort } from '../../src/demo/redis.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { producerConnection } from '../../src/queue/connection.ts';
import { type ActionJob, type CommandRequest, QUEUE_NAME } from '../../src/queue/jobs.ts';
import { createProducer, QueueUnavailableError } from '../../src/queue/producer.ts';
import { closeWorker, type Dispatch, type JobRun, startWorker } from '../../src/queue/worker.ts';
import { LogSink } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

/** The producer and the worker over real Redis and BullMQ, with a dispatcher that records what reaches it. */

const prefixes: string[] = [];
after(async () => {
  for (const p of prefixes) await dropPrefix(p);
});

const command: CommandRequest = {
  type: 'command',
  command: { kind: 'status', cluster: 'iks' },
  text: '/mesh status iks',
  user: 'U0ME',
  channel: 'C0HERE',
  requestedAt: 1,
};
const click: ActionJob = {
  type: 'action',
  action: 'mesh.approve',
  value: 'ap-1',
  user: 'U0APPROVER',
  channel: 'C0HERE',
  requestedAt: 1,
  messageTs: '2.0',
  actionTs: '3.0',
};

function recording(fail?: (run: JobRun) => Error | undefined) {
  const seen: { type: string; data: unknown; run: JobRun }[] = [];
  const dispatch: Dispatch = {
    async command(job, run) {
      seen.push({ type: 'command', data: job, run });
      const err = fail?.(run);
      if (err) throw err;
      return { verdict: 'healthy', summary: 'fine' };
    },
    async action(job, run) {
      seen.push({ type: 'action', data: job, run });
    },
    async schedule(job, run) {
      seen.push({ type: 'schedule', data: job, run });
    },
  };
  return { seen, dispatch };
}

async function world(fail?: (run: JobRun) => Error | undefined) {
  const prefix = uniquePrefix('worker');
  prefixes.push(prefix);
  const { seen, dispatch } = recording(fail);
  const done: string[] = [];
  const worker = startWorker({
    redisTarget: REDIS_URL,
    prefix,
    concurrency: 2,
    log: createLogger('debug', new LogSink()),
    dispatch,
    onJobDone: (name, outcome) => done.push(`${name} ${outcome}`),
  });
  const producer = createProducer(REDIS_URL, prefix);
  return {
    seen,
    done,
    producer,
    prefix,
    async close() {
      await closeWorker(worker, 5000);
      await producer.close();
    },
  };
}

describe('the queue between the app and the worker', () => {
  it('hands each job, parsed, to the dispatcher under its type, and names it for metrics', async () => {
    const w = await world();
    await w.producer.enqueue(command);
    await w.producer.enqueue(click, { writes: true, jobId: 'click-1' });
    await w.producer.enqueue({ type: 'schedule', name: 'health', trigger: 'manual', user: 'U0ME' });
    await waitFor('three jobs done', () => w.done.length === 3);
    await w.close();
    assert.deepEqual(w.seen.map((s) => s.type).sort(), ['action', 'command', 'schedule']);
    assert.deepEqual(w.seen.find((s) => s.type === 'command')?.data, command);
    assert.deepEqual(w.done.sort(), [
      'action:mesh.approve completed',
      'schedule:health completed',
      'status completed',
    ]);
  });

  it('a click queued twice under the same job id runs once', async () => {
    const w = await world();
    await w.producer.enqueue(click, { writes: true, jobId: 'same' });
    await w.producer.enqueue(click, { writes: true, jobId: 'same' });
    await waitFor('the click done', () => w.done.length >= 1);
    await w.producer.enqueue(command);
    await waitFor('the command after it done', () => w.done.length === 2);
    await w.close();
    assert.equal(w.seen.filter((s) => s.type === 'action').length, 1);
  });

  it('reads run once more, writes never blindly: lastAttempt tells the dispatcher which try is final', async () => {
    const w = await world((run) => (run.lastAttempt ? undefined : new Error('flaky')));
    await w.producer.enqueue(command);
    await w.producer.enqueue({ ...command, text: 'write' }, { writes: true });
    await waitFor('both commands done, one retried', () => w.done.length === 3, 20_000);
    await w.close();
    const runs = w.seen.map((s) => [(s.data as CommandRequest).text, s.run.lastAttempt]);
    assert.deepEqual(
      runs.sort(),
      [
        ['/mesh status iks', false],
        ['/mesh status iks', true],
        ['write', true],
      ].sort(),
    );
  });

  it('a payload that does not match its schema fails for good and never reaches the dispatcher', async () => {
    const w = await world();
    const raw = new Queue(QUEUE_NAME, { connection: producerConnection(REDIS_URL), prefix: w.prefix });
    const job = await raw.add(
      'status',
      { type: 'command', command: { kind: 'status; rm -rf /' } },
      { attempts: 3 },
    );
    await waitFor('the job failed', async () => (await job.getState()) === 'failed');
    const failed = await raw.getJob(job.id!);
    await raw.close();
    await w.close();
    assert.equal(w.seen.length, 0);
    assert.equal(failed?.attemptsMade, 1, 'not retried');
    assert.equal(failed?.failedReason, 'job payload does not match its schema');
  });

  it('the producer says the queue is unavailable when Redis does not answer', async () => {
    const producer = createProducer(`redis://127.0.0.1:${await freePort()}`, uniquePrefix('down'), {
      addTimeoutMs: 500,
    });
    await assert.rejects(producer.enqueue(command), QueueUnavailableError);
    await producer.close();
  });
});
