// Ack latency of `/mesh clusters` (p50/p99 over 2,000 signed requests at 50 concurrent) against a bare Bolt
// app whose handler only calls ack(), measured in the same run, each app in its own process as in
// production; and whether every request got its thread reply (a worker runs in a third process).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedHeaders, slashCommandBody } from '../../src/console/sign.ts';
import { startSlackApi } from '../../src/console/slack-api.ts';
import { BOT_TOKEN, closedPort, SIGNING_SECRET, unreachableKubeconfig } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import { machine, percentile, writeSection } from './report.ts';

const TOTAL = 2000;
const CONCURRENCY = 50;

async function fire(url: string, total: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  async function lane() {
    while (next < total) {
      const i = next++;
      const body = slashCommandBody({
        command: '/mesh',
        text: 'clusters',
        userId: `U0BENCH${i % 40}`,
        userName: 'bench',
        channelId: `C0BENCH${i % 50}`,
        channelName: 'bench',
        responseUrl: 'http://127.0.0.1:9/unused',
      });
      const started = performance.now();
      const res = await fetch(`${url}/slack/events`, {
        method: 'POST',
        headers: signedHeaders(SIGNING_SECRET, body),
        body,
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      latencies.push(performance.now() - started);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return latencies.sort((a, b) => a - b);
}

function child(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ proc: ChildProcess; match: RegExpMatchArray }> {
  const proc = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = out.match(ready);
      if (match) {
        proc.stdout!.removeAllListeners('data');
        proc.stdout!.resume();
        resolve({ proc, match });
      }
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

const slack = await startSlackApi();
const prefix = uniquePrefix('benchack');
const dir = mkdtempSync(join(tmpdir(), 'meshops-bench-ack-'));
unreachableKubeconfig(dir, 'icp');
writeFileSync(
  join(dir, 'meshops.yaml'),
  `clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]
access: { rateLimit: { commands: 100000, per: 1m } }
jobs: { concurrency: 16 }
`,
);
const appPort = await closedPort();
const env = {
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_API_URL: slack.url,
  REDIS_URL,
  REDIS_PREFIX: prefix,
  MESHOPS_CONFIG: join(dir, 'meshops.yaml'),
  LOG_LEVEL: 'info',
};

const bare = await child(
  ['test/bench/bare-bolt.ts'],
  { SLACK_SIGNING_SECRET: SIGNING_SECRET },
  /listening (\d+)/,
);
const bareUrl = `http://127.0.0.1:${bare.match[1]}`;
await fire(bareUrl, 500);
const bareLat = await fire(bareUrl, TOTAL);
bare.proc.kill();

// The worker starts after the last ack: in production the app and the workers run in separate pods, and on a
// 2-core bench machine a busy worker next to the app would measure the machine, not the app.
const app = await child(['src/main.ts', 'app'], { ...env, PORT: String(appPort) }, /Slack app listening/);
const appUrl = `http://127.0.0.1:${appPort}`;
await fire(appUrl, 500);
const meshLat = await fire(appUrl, TOTAL);
const expected = 500 + TOTAL;
await waitFor(
  'every parent message',
  () => slack.messages.filter((m) => !m.thread_ts).length >= expected,
  120_000,
);
const started = performance.now();
const worker = await child(
  ['src/main.ts', 'worker'],
  { ...env, PORT: String(await closedPort()) },
  /worker started/,
);
const replies = await waitFor(
  'every thread reply',
  () => {
    const n = slack.messages.filter((m) => m.thread_ts).length;
    return n >= expected ? n : false;
  },
  300_000,
).catch(() => slack.messages.filter((m) => m.thread_ts).length);
const drainS = (performance.now() - started) / 1000;
app.proc.kill('SIGTERM');
worker.proc.kill('SIGTERM');

const row = (name: string, l: number[]) =>
  `| ${name} | ${percentile(l, 50).toFixed(1)} ms | ${percentile(l, 99).toFixed(1)} ms |`;
const ratio = percentile(meshLat, 99) / percentile(bareLat, 99);
const text = `Ack latency of \`/mesh clusters\`: ${TOTAL} signed requests at ${CONCURRENCY} concurrent (after 500 warm-up
requests each), against a bare Bolt app whose handler only calls \`ack()\`, measured in the same run. Each app runs
in its own process. meshops' worker, in a third process, starts once the last request is acked (in production the
roles run in separate pods; on this 2-core machine a busy worker beside the app would measure the machine) and then
drains the queue, so every request is followed to its thread reply.
Machine: ${machine()}.

| app | p50 | p99 |
| --- | --- | --- |
${row('bare Bolt', bareLat)}
${row('meshops app', meshLat)}

p99 ratio meshops / bare: **${ratio.toFixed(2)}×** (target ≤ 1.5× and < 50 ms). Thread replies: ${replies - 500} of ${TOTAL}
(${expected - replies} lost); the worker drained all ${expected} jobs in ${drainS.toFixed(1)} s.`;
process.stdout.write(`${text}\n`);
writeSection('Ack latency (/mesh clusters)', text);
await slack.close();
await dropPrefix(prefix);
process.exit(0);
