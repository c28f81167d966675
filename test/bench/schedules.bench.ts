// Scheduled health posts: what the scheduler adds around the checks. (1) One run's own cost (Redis state,
// slot bookkeeping, rendering, the digest edit and any thread reply) with checks that answer at once,
// next to the baseline of the one Slack call every digest run makes anyway (chat.update to the same fake
// Slack), in the same run. (2) Start-up sync of 100 schedules: first start and an unchanged restart.
// (3) How late BullMQ starts a cron slot's job, with one worker on a 1-second pattern.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { MeshConfig } from '../../src/config/schema.ts';
import { startSlackApi } from '../../src/console/slack-api.ts';
import { startMeshops } from '../../src/runtime.ts';
import { runSchedule, slotOf } from '../../src/schedules/run.ts';
import { syncSchedulers } from '../../src/schedules/sync.ts';
import { BOT_TOKEN, LogSink, SIGNING_SECRET, unreachableKubeconfig } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import { finding, handlersWith, jobContext, queueFor, settableChecks } from '../schedules/helpers.ts';
import { machine, percentile, writeSection } from './report.ts';

const RUNS = 300;
const SCHEDULES = 100;
const SLOTS = 10;

const dir = mkdtempSync(join(tmpdir(), 'meshops-bench-sched-'));
unreachableKubeconfig(dir, 'icp');
const config = (n: number): MeshConfig =>
  parseConfig(
    `clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]\nschedules:\n${Array.from(
      { length: n },
      (_, i) =>
        `  - {name: s${i}, cron: "${i % 60} 8 * * *", timezone: Europe/Berlin, channel: C0BENCH${i}}\n`,
    ).join('')}`,
    join(dir, 'meshops.yaml'),
    dir,
  );

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
};

async function perRun() {
  const slack = await startSlackApi();
  const prefix = uniquePrefix('benchrun');
  const cfg = config(1);
  const schedule = cfg.schedules[0]!;
  const mesh = settableChecks();
  const ctx = jobContext({ config: cfg, prefix, slackUrl: slack.url, jobId: 'bench', logs: new LogSink() });
  const run: number[] = [];
  const bare: number[] = [];
  try {
    for (let i = 0; i < RUNS + 20; i++) {
      // Every tenth run changes state, so replies are part of the figure as they are in a real day.
      if (i % 10 === 5) mesh.degrade('status', finding(`icp/component/c${i}`));
      if (i % 10 === 6) mesh.healthy();
      let t = performance.now();
      await runSchedule({ schedule, slot: `bench-${i}`, trigger: 'manual' }, ctx, mesh.checks);
      const runMs = performance.now() - t;
      const digest = slack.messages.find((m) => m.channel === schedule.channel && !m.thread_ts)!;
      t = performance.now();
      await ctx.reply.update({ channel: schedule.channel, ts: digest.ts, text: digest.text });
      const bareMs = performance.now() - t;
      if (i >= 20) {
        run.push(runMs);
        bare.push(bareMs);
      }
    }
  } finally {
    ctx.close();
    await slack.close();
    await dropPrefix(prefix);
  }
  return { run: stats(run), bare: stats(bare) };
}

async function startupSync() {
  const prefix = uniquePrefix('benchsync');
  const queue = queueFor(prefix);
  const cfg = config(SCHEDULES);
  try {
    let t = performance.now();
    await syncSchedulers(queue, cfg.schedules);
    const first = performance.now() - t;
    t = performance.now();
    await syncSchedulers(queue, cfg.schedules);
    return { first, again: performance.now() - t };
  } finally {
    await queue.close();
    await dropPrefix(prefix);
  }
}

async function lateness() {
  const slack = await startSlackApi();
  const prefix = uniquePrefix('benchlate');
  const queue = queueFor(prefix);
  const cfg = config(1);
  const env = parseEnv(
    {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    'worker',
  );
  const meshops = await startMeshops({
    role: 'worker',
    env,
    host: '127.0.0.1',
    config: cfg,
    logDestination: new LogSink(),
    handlers: handlersWith(settableChecks().checks),
  });
  try {
    await syncSchedulers(queue, [{ ...cfg.schedules[0]!, cron: '* * * * * *', timezone: 'UTC' }]);
    const done = async () => (await queue.getJobs(['completed'])).filter((j) => j.id?.startsWith('repeat:'));
    await waitFor(`${SLOTS} slots`, async () => (await done()).length >= SLOTS, 30_000);
    await queue.removeJobScheduler('health:s0');
    return stats((await done()).map((j) => j.processedOn! - slotOf(j.id!).scheduledFor!));
  } finally {
    await meshops.stop();
    await queue.close();
    await slack.close();
    await dropPrefix(prefix);
  }
}

const runs = await perRun();
const sync = await startupSync();
const late = await lateness();

const body = `
Machine: ${machine()}. Redis on loopback; Slack is the local fake Web API.

One digest run with checks that answer at once (${RUNS} runs after 20 warm-up runs; every tenth run changes
state, so thread replies are included), against the baseline of the one \`chat.update\` each digest run makes
anyway, timed in the same loop:

| what | p50 | p99 | max |
| --- | --- | --- | --- |
| bare \`chat.update\` | ${fmt(runs.bare.p50)} | ${fmt(runs.bare.p99)} | ${fmt(runs.bare.max)} |
| scheduled run (lock, state, slot, render, Slack) | ${fmt(runs.run.p50)} | ${fmt(runs.run.p99)} | ${fmt(runs.run.max)} |

Start-up sync of ${SCHEDULES} schedules: first start ${fmt(sync.first)}, unchanged restart ${fmt(sync.again)}
(one read of the schedulers, nothing rewritten, so no pending run is dropped).

How late a cron slot's job starts (BullMQ \`processedOn\` − slot time), one worker, 1-second pattern,
${SLOTS} slots: p50 ${fmt(late.p50)}, max ${fmt(late.max)}.
`;
process.stdout.write(body);
writeSection('Scheduled health posts', body);
process.exit(0);
