import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { JobResult } from '../../src/chat/reply.ts';
import { startSlackApi } from '../../src/console/slack-api.ts';
import { defaultHandlers } from '../../src/jobs/index.ts';
import type { Handlers } from '../../src/jobs/types.ts';
import { redisOptions } from '../../src/queue/connection.ts';
import { QUEUE_NAME } from '../../src/queue/jobs.ts';
import { COMMAND_SPECS } from '../../src/slack/parse-command.ts';
import { section } from '../../src/slack/render/blocks.ts';
import { APP_TOKEN, startFakeSocketMode } from '../helpers/fake-socket-mode.ts';
import { type Harness, startHarness, unreachableMesh } from '../helpers/harness.ts';
import { REDIS_URL } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

const { dir, configYaml } = unreachableMesh('coalesce');

/** A status run that holds until the test opens the gate, and counts how often it ran. */
function gatedStatus() {
  let open: () => void = () => {};
  let gate = new Promise<void>((r) => {
    open = r;
  });
  const runs: string[] = [];
  const base = defaultHandlers();
  const handlers: Handlers = {
    ...base,
    commands: {
      ...base.commands,
      status: async (command, job): Promise<JobResult> => {
        runs.push(job.channel);
        await gate;
        const text = `status of ${command.cluster ?? 'every cluster'}`;
        return { verdict: 'healthy', summary: text, text, blocks: [section(text)] };
      },
    },
  };
  return {
    handlers,
    runs,
    release: () => open(),
    /** Makes later runs hold again until the next release. */
    hold() {
      gate = new Promise<void>((r) => {
        open = r;
      });
    },
  };
}

const ack = (body: string) =>
  body === '' ? undefined : (JSON.parse(body) as { response_type?: string; text?: string });

describe('identical read commands share one run', () => {
  let h: Harness;
  const status = gatedStatus();
  before(async () => {
    h = await startHarness({ configYaml, configDir: dir, label: 'coalesce', handlers: status.handlers });
  });
  after(() => h.close());

  it('a second /mesh status in the channel joins the first: one run, one thread, both named', async () => {
    const first = await h.command('status', { user: 'U0ALICE', channel: 'C0TWO' });
    assert.equal(first.body, '', 'the first requester gets a plain ack');
    const running = await waitFor('the parent', () => h.parents('C0TWO')[0]);
    const second = await h.command('status', { user: 'U0BOB', channel: 'C0TWO' });
    const joined = ack(second.body);
    assert.equal(joined?.response_type, 'ephemeral');
    assert.match(
      String(joined?.text),
      /already queued or running in this channel for <@U0ALICE>: you joined/,
    );
    assert.match(String(joined?.text), /<https:\/\/meshops\.slack\.com\/archives\/C0TWO\/p\d+\|its thread>/);

    status.release();
    const final = await h.waitForVerdict('C0TWO', '/mesh status');
    assert.equal(final.ts, running.ts);
    assert.match(final.text, /requested by <@U0ALICE>, <@U0BOB> — .*\*healthy\*/);
    assert.equal(h.parents('C0TWO').length, 1, 'one parent');
    assert.equal(h.thread('C0TWO', final.ts).length, 1, 'one answer');
    assert.equal(status.runs.filter((c) => c === 'C0TWO').length, 1, 'one run');
  });

  it('twenty users at once: one run, every requester named, nineteen told they joined', async () => {
    status.hold();
    const users = Array.from({ length: 20 }, (_, i) => `U0USER${String(i).padStart(2, '0')}`);
    const acks = await Promise.all(users.map((user) => h.command('status', { user, channel: 'C0TWENTY' })));
    assert.ok(acks.every((a) => a.status === 200));
    const joinedAcks = acks.filter((a) => /you joined/.test(ack(a.body)?.text ?? ''));
    assert.equal(joinedAcks.length, 19);
    assert.equal(acks.filter((a) => a.body === '').length, 1);

    status.release();
    const final = await h.waitForVerdict('C0TWENTY', '/mesh status');
    for (const user of users) assert.match(final.text, new RegExp(`<@${user}>`));
    assert.equal(h.parents('C0TWENTY').length, 1);
    assert.equal(h.thread('C0TWENTY', final.ts).length, 1);
    assert.equal(status.runs.filter((c) => c === 'C0TWENTY').length, 1);
  });

  it('a finished run is not joined, and other arguments or channels are runs of their own', async () => {
    status.hold();
    await h.command('status', { user: 'U0ALICE', channel: 'C0APART' });
    await h.command('status icp', { user: 'U0BOB', channel: 'C0APART' });
    await h.command('status', { user: 'U0CAROL', channel: 'C0ELSEWHERE' });
    await waitFor(
      'three runs',
      () => status.runs.filter((c) => c !== 'C0TWO' && c !== 'C0TWENTY').length === 3,
    );
    status.release();
    await h.waitForVerdict('C0ELSEWHERE', '/mesh status');
    await waitFor('both runs in C0APART to finish', () =>
      h.parents('C0APART').every((m) => /\*healthy\*/.test(m.text)),
    );
    assert.equal(h.parents('C0APART').length, 2);

    const again = await h.command('status', { user: 'U0DAVE', channel: 'C0ELSEWHERE' });
    assert.equal(again.body, '', 'the earlier run had finished: a run of its own');
    await waitFor('a second parent', () => h.parents('C0ELSEWHERE').length === 2);
  });

  it('only status, vpn and clusters are shared, and never a command that writes', () => {
    const shared = COMMAND_SPECS.filter((s) => s.coalesce).map((s) => s.words.join(' '));
    assert.deepEqual(shared.sort(), ['clusters', 'status', 'vpn']);
    assert.ok(COMMAND_SPECS.every((s) => !(s.coalesce && s.writes)));
  });
});

describe('an acknowledged command is already in Redis', () => {
  /** The waiting jobs of an app with no worker: what was durable when the ack left. */
  async function waiting(prefix: string) {
    const queue = new Queue(QUEUE_NAME, { connection: redisOptions(REDIS_URL), prefix });
    try {
      return (await queue.getJobs(['waiting'])).map((j) => j.data as Record<string, unknown>);
    } finally {
      await queue.close();
    }
  }

  it('over HTTP: the job holds user, channel, text, response_url and trigger when Slack gets the ack', async () => {
    const h = await startHarness({ configYaml, configDir: dir, label: 'durablehttp', role: 'app' });
    try {
      const res = await h.command('status', { user: 'U0ALICE', channel: 'C0ACKED', responseId: 'acked1' });
      assert.equal(res.body, '');
      const [job, ...more] = await waiting(h.prefix);
      assert.equal(more.length, 0);
      assert.equal(job?.user, 'U0ALICE');
      assert.equal(job?.channel, 'C0ACKED');
      assert.equal(job?.text, '/mesh status');
      assert.equal(job?.responseUrl, h.slack.responseUrl('acked1'));
      assert.match(String(job?.triggerId), /\d+\.1\./);
      assert.equal(h.parents('C0ACKED').length, 0, 'the app posts nothing: the worker owns the thread');
    } finally {
      await h.close();
    }
  });

  it('over Socket Mode the same', async () => {
    const slack = await startSlackApi();
    const socket = await startFakeSocketMode(slack);
    const h = await startHarness({
      configYaml,
      configDir: dir,
      label: 'durablesocket',
      role: 'app',
      slack,
      env: { SLACK_APP_TOKEN: APP_TOKEN },
    });
    try {
      const { ack: acked } = await socket.command('vpn', { channelId: 'C0SOCKACK' });
      assert.deepEqual(acked.payload, {});
      const [job] = await waiting(h.prefix);
      assert.equal(job?.channel, 'C0SOCKACK');
      assert.equal(job?.text, '/mesh vpn');
    } finally {
      await h.close();
      await socket.close();
    }
  });
});
