import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { parseEnv } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { MeshConfig } from '../../src/config/schema.ts';
import { type SlackApiStub, startSlackApi } from '../../src/console/slack-api.ts';
import { redisOptions } from '../../src/queue/connection.ts';
import { QUEUE_NAME } from '../../src/queue/jobs.ts';
import { type Meshops, startMeshops } from '../../src/runtime.ts';
import { slotOf } from '../../src/schedules/run.ts';
import { schedulerTemplate, syncSchedulers } from '../../src/schedules/sync.ts';
import { BOT_TOKEN, LogSink, SIGNING_SECRET, unreachableKubeconfig } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { handlersWith, queueFor, settableChecks } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshops-schedulers-'));
unreachableKubeconfig(dir, 'icp');
const BASE = `
clusters:
  - name: icp
    role: primary
    kubeconfig: ./icp.kubeconfig
`;
const entry = (name: string, channel: string, mode = 'every-run') =>
  `  - {name: ${name}, cron: "* * * * *", timezone: UTC, channel: ${channel}, checks: [status], mode: ${mode}}\n`;

const config = (schedules: string): MeshConfig =>
  parseConfig(`${BASE}schedules:\n${schedules}`, join(dir, 'meshops.yaml'), dir);

/** The config validator allows only 5-field crons; tests tick every second with BullMQ's 6-field form. */
const everySecond = (c: MeshConfig): MeshConfig => ({
  ...c,
  schedules: c.schedules.map((s) => ({ ...s, cron: '* * * * * *' })),
});

async function startWorker(
  prefix: string,
  slack: SlackApiStub,
  meshConfig: MeshConfig,
  logs = new LogSink(),
  redisUrl = REDIS_URL,
) {
  const env = parseEnv(
    {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'debug',
    },
    'worker',
  );
  const meshops = await startMeshops({
    role: 'worker',
    env,
    host: '127.0.0.1',
    config: meshConfig,
    logDestination: logs,
    handlers: handlersWith(settableChecks().checks),
    shutdownGraceMs: 5000,
  });
  return { meshops, logs };
}

/** Slots (scheduled times) of the scheduler's jobs that workers finished. */
async function finishedSlots(queue: Queue, name: string): Promise<number[]> {
  const jobs = await queue.getJobs(['completed', 'failed', 'active']);
  return jobs
    .filter((j) => j.id?.startsWith(`repeat:health:${name}:`))
    .map((j) => slotOf(j.id!).scheduledFor!)
    .sort((a, b) => a - b);
}

describe('BullMQ job schedulers for the schedules', () => {
  let slack: SlackApiStub;
  const prefixes: string[] = [];
  const running: Meshops[] = [];
  const queues: Queue[] = [];
  const fresh = (label: string) => {
    const prefix = uniquePrefix(label);
    prefixes.push(prefix);
    const queue = queueFor(prefix);
    queues.push(queue);
    return { prefix, queue };
  };

  before(async () => {
    slack = await startSlackApi();
  });
  after(async () => {
    for (const m of running) await m.stop();
    for (const q of queues) await q.close();
    await slack.close();
    for (const p of prefixes) await dropPrefix(p);
  });

  it('after downtime: a restart keeps the missed run, which runs once; the other missed slots never run', async () => {
    const { prefix, queue } = fresh('catchup');
    const cfg = everySecond(config(entry('tick', 'C0CATCHUP')));
    await syncSchedulers(queue, cfg.schedules);
    // BullMQ adds a slot that is already due when its upsert lands straight to `wait`, not `delayed`.
    const [pending] = await queue.getJobs(['delayed', 'wait']);
    assert.ok(pending?.id);
    const missedSince = slotOf(pending.id).scheduledFor!;

    // No worker while several slots pass: still one pending job, not one per missed slot.
    await waitFor('three slots to pass', () => Date.now() > missedSince + 3000, 10_000);
    const pendingNow = await queue.getJobs(['delayed', 'wait']);
    assert.deepEqual(
      pendingNow.map((j) => j.id),
      [pending.id],
    );

    // The restart syncs again, as every start does: the missed run must survive it.
    assert.deepEqual(await syncSchedulers(queue, cfg.schedules), {
      created: [],
      updated: [],
      unchanged: ['tick'],
      removed: [],
    });
    assert.deepEqual(
      (await queue.getJobs(['delayed', 'wait'])).map((j) => j.id),
      [pending.id],
    );

    const workerStart = Date.now();
    const { meshops } = await startWorker(prefix, slack, cfg);
    running.push(meshops);
    await waitFor(
      'three runs after the restart',
      async () => (await finishedSlots(queue, 'tick')).length >= 3,
      15_000,
    );
    await queue.removeJobScheduler('health:tick');
    const slots = await finishedSlots(queue, 'tick');
    const late = slots.filter((s) => s < workerStart);
    assert.deepEqual(late, [missedSince], 'exactly one catch-up: the run that was pending');
    assert.ok(
      slots.filter((s) => s >= workerStart).every((s, i, all) => i === 0 || s > all[i - 1]!),
      'then one run per slot, from the restart on',
    );
    await waitFor(
      'the posts',
      () => slack.messages.filter((m) => m.channel === 'C0CATCHUP').length >= slots.length - 1,
    );
  });

  it('two workers on one scheduler post once per run', async () => {
    const { prefix, queue } = fresh('twoworkers');
    const cfg = config(entry('both', 'C0BOTH'));
    const a = await startWorker(prefix, slack, cfg);
    const b = await startWorker(prefix, slack, cfg);
    running.push(a.meshops, b.meshops);
    // Both workers started and synced; now make the scheduler tick every second.
    await syncSchedulers(queue, everySecond(cfg).schedules);
    await waitFor('five runs', async () => (await finishedSlots(queue, 'both')).length >= 5, 20_000);
    await queue.removeJobScheduler('health:both');
    await waitFor('the workers to finish', async () => (await queue.getActiveCount()) === 0);
    const slots = await finishedSlots(queue, 'both');
    assert.equal(new Set(slots).size, slots.length, 'one job per slot');
    const posts = slack.messages.filter((m) => m.channel === 'C0BOTH');
    assert.equal(posts.length, slots.length, 'one post per run');
    const posted = (logs: LogSink) => logs.lines.filter((l) => l.includes('scheduled health posted')).length;
    assert.equal(posted(a.logs) + posted(b.logs), slots.length);
  });

  it('a schedule dropped from the config loses its scheduler at the next start; others are left alone', async () => {
    const { prefix, queue } = fresh('dropped');
    await queue.upsertJobScheduler(
      'other-team-nightly',
      { pattern: '0 3 * * *', tz: 'UTC' },
      { name: 'nightly' },
    );
    const first = await startWorker(prefix, slack, config(entry('keep', 'C0K') + entry('drop', 'C0D')));
    await first.meshops.stop();
    const keys = async () => (await queue.getJobSchedulers(0, -1, true)).map((s) => s.key).sort();
    assert.deepEqual(await keys(), ['health:drop', 'health:keep', 'other-team-nightly']);

    const second = await startWorker(prefix, slack, config(entry('keep', 'C0K')));
    running.push(second.meshops);
    assert.deepEqual(await keys(), ['health:keep', 'other-team-nightly']);
    assert.equal(
      (await queue.getJobs(['delayed', 'wait'])).filter((j) => j.id?.startsWith('repeat:health:drop:'))
        .length,
      0,
      'its pending run is gone too',
    );
    assert.match(second.logs.text(), /"removed":\["drop"\].*job schedulers match the config/);
  });

  it('a start while Redis is down goes on, and the schedulers appear once Redis is back', async () => {
    const redis = await PrivateRedis.start();
    await redis.down();
    const logs = new LogSink();
    const prefix = uniquePrefix('lateredis');
    try {
      const { meshops } = await startWorker(prefix, slack, config(entry('later', 'C0L')), logs, redis.url);
      running.push(meshops);
      assert.match(logs.text(), /Redis does not answer yet; the job schedulers are synced once it does/);
      await redis.up();
      const queue = new Queue(QUEUE_NAME, { connection: redisOptions(redis.url), prefix });
      queues.push(queue);
      await waitFor(
        'the scheduler',
        async () => (await queue.getJobScheduler('health:later'))?.pattern,
        30_000,
      );
      await waitFor('the sync to be logged', () => logs.text().includes('job schedulers match the config'));
    } finally {
      for (const m of running.splice(running.length - 1)) await m.stop();
      await redis.down();
    }
  });

  it('a changed cron replaces the scheduler (and its pending run)', async () => {
    const { queue } = fresh('changed');
    const before = config(entry('moved', 'C0M'));
    await syncSchedulers(queue, before.schedules);
    const after = { ...before, schedules: before.schedules.map((s) => ({ ...s, cron: '30 6 * * *' })) };
    assert.deepEqual((await syncSchedulers(queue, after.schedules)).updated, ['moved']);
    const [scheduler] = await queue.getJobSchedulers();
    assert.equal(scheduler?.pattern, '30 6 * * *');
    assert.deepEqual(scheduler?.template?.data, schedulerTemplate('moved').data);
    assert.equal(await queue.getDelayedCount(), 1);
  });
});

describe('start-up with a bad schedule', () => {
  async function start(schedule: string): Promise<{ code: number | null; stderr: string }> {
    const path = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, `${BASE}schedules:\n${schedule}`);
    const child = spawn(process.execPath, ['src/main.ts', 'all'], {
      env: {
        PATH: process.env.PATH,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        REDIS_URL,
        REDIS_PREFIX: uniquePrefix('badstart'),
        PORT: '0',
        OPS_PORT: '0',
        MESHOPS_CONFIG: path,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, stderr };
  }

  it('refuses a bad cron, naming the schedule', async () => {
    const { code, stderr } = await start(
      '  - {name: morning, cron: "0 9 * * mon-xyz", timezone: UTC, channel: C0H}\n',
    );
    assert.equal(code, 1);
    assert.match(
      stderr,
      /meshops cannot start:\n.*schedules\.0\.cron: schedule "morning": invalid cron "0 9 \* \* mon-xyz"/,
    );
  });

  it('refuses an unknown time zone, naming the schedule', async () => {
    const { code, stderr } = await start(
      '  - {name: evening, cron: "0 18 * * *", timezone: Europe/Atlantis, channel: C0H}\n',
    );
    assert.equal(code, 1);
    assert.match(stderr, /schedules\.0\.timezone: schedule "evening": unknown time zone "Europe\/Atlantis"/);
  });

  it('refuses a 6-field cron (seconds), naming the schedule', async () => {
    const { code, stderr } = await start(
      '  - {name: fast, cron: "* * * * * *", timezone: UTC, channel: C0H}\n',
    );
    assert.equal(code, 1);
    assert.match(stderr, /schedule "fast": invalid cron "\* \* \* \* \* \*": expected 5 fields/);
  });
});
