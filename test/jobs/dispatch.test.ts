import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { KnownBlock } from '@slack/types';
import { UnrecoverableError } from 'bullmq';
import { toMrkdwn } from '../../src/chat/mrkdwn.ts';
import type { PostMessage, ReplyPort, UpdateMessage } from '../../src/chat/reply.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createDispatch } from '../../src/jobs/dispatch.ts';
import type { Handlers } from '../../src/jobs/types.ts';
import { createClusters } from '../../src/kube/registry.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createRedis } from '../../src/queue/connection.ts';
import type { CommandRequest } from '../../src/queue/jobs.ts';
import type { JobRun } from '../../src/queue/worker.ts';
import { LogSink, unreachableMesh } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

/** The dispatcher on its own: handlers given, a reply port that records, Redis under a prefix of its own, no queue. */

const opened: { redis: ReturnType<typeof createRedis>; prefix: string }[] = [];
after(async () => {
  for (const { redis, prefix } of opened) {
    redis.disconnect();
    await dropPrefix(prefix);
  }
});

function setup(handlers: Handlers, timeout = '5s') {
  const mesh = unreachableMesh('dispatch', `jobs:\n  timeout: ${timeout}\n`);
  const config = parseConfig(mesh.configYaml, `${mesh.dir}/meshops.yaml`, mesh.dir);
  const posts: PostMessage[] = [];
  const updates: UpdateMessage[] = [];
  const reply: ReplyPort = {
    async post(m) {
      posts.push(m);
      return { channel: m.channel, ts: `1.${posts.length}` };
    },
    async update(m) {
      updates.push(m);
    },
    async ephemeral() {},
    async respond() {},
    async upload() {
      throw new Error('the dispatcher uploads no files');
    },
  };
  const redis = createRedis(REDIS_URL);
  const prefix = uniquePrefix('dispatch');
  opened.push({ redis, prefix });
  const dispatch = createDispatch({
    config,
    clusters: createClusters(config),
    redis,
    prefix,
    reply,
    userName: undefined as never,
    permissions: undefined as never,
    handlers,
    enqueue: async () => 'job',
  });
  return { dispatch, posts, updates };
}

const run = (lastAttempt: boolean): JobRun => ({
  jobId: '42',
  log: createLogger('debug', new LogSink()),
  lastAttempt,
});

const job: CommandRequest = {
  type: 'command',
  command: { kind: 'clusters' },
  text: '/mesh clusters',
  user: 'U0ME',
  channel: 'C0HERE',
  requestedAt: 0,
};

const section = (i: number): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: `part ${i}` } });

describe('dispatching a job to its handler', () => {
  it('a command: the parent is posted running, the reply lands in its thread, the parent shows the verdict', async () => {
    const { dispatch, posts, updates } = setup({
      commands: {
        clusters: async () => ({
          verdict: 'healthy',
          summary: '2 clusters answer',
          text: 'Clusters',
          blocks: Array.from({ length: 60 }, (_, i) => section(i)),
        }),
      },
      actions: {},
    });
    assert.deepEqual(await dispatch.command(job, run(true)), {
      verdict: 'healthy',
      summary: '2 clusters answer',
    });
    assert.equal(posts[0]?.thread_ts, undefined);
    // The reply port gets meshops' text; the Slack poster turns its mention tokens into markup.
    assert.match(toMrkdwn(posts[0]?.text ?? ''), /requested by <@U0ME> — .*running/);
    // Slack takes 50 blocks a message: the 60 go out as two replies in the thread.
    assert.deepEqual(
      posts.slice(1).map((p) => [p.thread_ts, p.blocks?.length]),
      [
        ['1.1', 50],
        ['1.1', 10],
      ],
    );
    assert.equal(updates.length, 1);
    assert.match(updates[0]?.text ?? '', /\*healthy\*: 2 clusters answer/);
  });

  it('a failure on the last attempt says why in the thread, marks the parent failed and is not retried', async () => {
    const { dispatch, posts, updates } = setup({
      commands: {
        clusters: async () => {
          throw new Error('the API said no\nstack');
        },
      },
      actions: {},
    });
    await assert.rejects(dispatch.command(job, run(true)), UnrecoverableError);
    assert.match(posts[1]?.text ?? '', /The command failed: the API said no$/);
    assert.match(updates.at(-1)?.text ?? '', /\*failed\*/);
  });

  it('a failure with attempts left is thrown for the queue to retry; the retry keeps the one parent', async () => {
    const { dispatch, posts, updates } = setup({
      commands: {
        clusters: async () => {
          throw new Error('flaky');
        },
      },
      actions: {},
    });
    await assert.rejects(
      dispatch.command(job, run(false)),
      (err: Error) => !(err instanceof UnrecoverableError),
    );
    assert.equal(posts.length, 1, 'only the parent');
    assert.equal(updates.length, 0);
    await assert.rejects(dispatch.command(job, run(true)), UnrecoverableError);
    assert.equal(posts.filter((p) => !p.thread_ts).length, 1, 'the retry found its parent and posted none');
    assert.match(updates[0]?.text ?? '', /running/);
    assert.match(updates.at(-1)?.text ?? '', /\*failed\*/);
  });

  it('a handler that outlives jobs.timeout is stopped with a reason the user reads', async () => {
    let aborted = false;
    const { dispatch, posts } = setup(
      {
        commands: {
          clusters: (_c, _j, ctx) =>
            new Promise((_, reject) => {
              ctx.signal.addEventListener('abort', () => {
                aborted = true;
                reject(ctx.signal.reason);
              });
            }),
        },
        actions: {},
      },
      '1s',
    );
    await assert.rejects(dispatch.command(job, run(true)), UnrecoverableError);
    assert.ok(aborted, 'the handler was told to stop');
    assert.match(posts[1]?.text ?? '', /timed out after 1 s/);
  });

  it('no handler for a command, action or schedule fails for good', async () => {
    const { dispatch, posts } = setup({ commands: {}, actions: {} });
    await assert.rejects(dispatch.command(job, run(false)), UnrecoverableError);
    assert.match(posts[1]?.text ?? '', /no handler for "clusters"/);
    const click = {
      ...job,
      type: 'action' as const,
      action: 'mesh.nope',
      value: 'x',
      messageTs: '1',
      actionTs: '1',
    };
    await assert.rejects(dispatch.action(click, run(false)), /no handler for action "mesh.nope"/);
    await assert.rejects(
      dispatch.schedule({ type: 'schedule', name: 'x', trigger: 'cron' }, run(false)),
      /no schedule handler/,
    );
  });

  it('actions and schedules reach their handlers with a context that posts through the reply port', async () => {
    const seen: string[] = [];
    const { dispatch, posts } = setup({
      commands: {},
      actions: {
        'mesh.echo': async (j, ctx) => {
          seen.push(`action ${j.value} as job ${ctx.jobId}`);
          await ctx.reply.post({ channel: j.channel, text: 'echo' });
        },
      },
      schedule: async (j) => {
        seen.push(`schedule ${j.name}`);
      },
    });
    const click = {
      ...job,
      type: 'action' as const,
      action: 'mesh.echo',
      value: 'v',
      messageTs: '1',
      actionTs: '1',
    };
    await dispatch.action(click, run(true));
    await dispatch.schedule({ type: 'schedule', name: 'health', trigger: 'cron' }, run(true));
    assert.deepEqual(seen, ['action v as job 42', 'schedule health']);
    assert.equal(posts[0]?.text, 'echo');
  });
});
