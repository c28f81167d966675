// Issue 9 figures: RSS of the app and a worker, idle and under 50 concurrent commands (each in its own
// process, as deployed), and worker throughput on no-op jobs against raw BullMQ on the same Redis in the
// same run.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { parseConfig } from '../../src/config/load.ts';
import { signedHeaders, slashCommandBody } from '../../src/console/sign.ts';
import { startSlackApi } from '../../src/console/slack-api.ts';
import { createDispatch } from '../../src/jobs/dispatch.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { workerConnection } from '../../src/queue/connection.ts';
import { QUEUE_NAME } from '../../src/queue/jobs.ts';
import { startWorker } from '../../src/queue/worker.ts';
import { BOT_TOKEN, freePort, SIGNING_SECRET, unreachableKubeconfig } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import { startProcess } from './processes.ts';
import { machine, writeSection } from './report.ts';

const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

// --- RSS ---
const slack = await startSlackApi();
const prefix = uniquePrefix('benchops');
const dir = mkdtempSync(join(tmpdir(), 'meshops-bench-ops-'));
unreachableKubeconfig(dir, 'icp');
const configYaml = `clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]
access: { rateLimit: { commands: 100000, per: 1m } }
`;
writeFileSync(join(dir, 'meshops.yaml'), configYaml);
const env = {
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_API_URL: slack.url,
  REDIS_URL,
  REDIS_PREFIX: prefix,
  MESHOPS_CONFIG: join(dir, 'meshops.yaml'),
  LOG_LEVEL: 'info',
};
const appPort = await freePort();
const app = (
  await startProcess(
    ['src/main.ts', 'app'],
    { ...env, PORT: String(appPort), OPS_PORT: String(await freePort()) },
    /Slack app listening/,
  )
).proc;
const worker = (
  await startProcess(
    ['src/main.ts', 'worker'],
    { ...env, PORT: String(await freePort()), OPS_PORT: String(await freePort()) },
    /worker started/,
  )
).proc;
await new Promise((r) => setTimeout(r, 3000));
const idle = { app: rssMiB(app.pid!), worker: rssMiB(worker.pid!) };
const peak = { ...idle };
const sampler = setInterval(() => {
  peak.app = Math.max(peak.app, rssMiB(app.pid!));
  peak.worker = Math.max(peak.worker, rssMiB(worker.pid!));
}, 50);
const ROUNDS = 10;
for (let round = 0; round < ROUNDS; round++) {
  await Promise.all(
    Array.from({ length: 50 }, (_, i) => {
      const body = slashCommandBody({
        command: '/mesh',
        text: 'clusters',
        userId: `U0R${i}`,
        userName: 'r',
        channelId: `C0R${i}`,
        channelName: 'r',
        responseUrl: 'http://127.0.0.1:9/x',
      });
      return fetch(`http://127.0.0.1:${appPort}/slack/events`, {
        method: 'POST',
        headers: signedHeaders(SIGNING_SECRET, body),
        body,
      }).then((r) => r.arrayBuffer());
    }),
  );
}
await waitFor('all replies', () => slack.messages.filter((m) => m.thread_ts).length >= 50 * ROUNDS, 120_000);
clearInterval(sampler);
app.kill('SIGTERM');
worker.kill('SIGTERM');
await slack.close();
await dropPrefix(prefix);

// --- throughput on no-op jobs ---
const JOBS = 10_000;
const CONCURRENCY = 8;
async function throughput(
  label: string,
  makeWorker: (prefix: string) => Worker,
  data: (i: number) => object,
): Promise<number> {
  const p = uniquePrefix(label);
  const queue = new Queue(QUEUE_NAME, { connection: workerConnection(REDIS_URL), prefix: p });
  await queue.addBulk(
    Array.from({ length: JOBS }, (_, i) => ({
      name: 'noop',
      data: data(i),
      opts: { removeOnComplete: true },
    })),
  );
  const started = performance.now();
  const w = makeWorker(p);
  let done = 0;
  const finished = new Promise<void>((resolve) =>
    w.on('completed', () => {
      done += 1;
      if (done === JOBS) resolve();
    }),
  );
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await w.close();
  await queue.close();
  await dropPrefix(p);
  return JOBS / seconds;
}
const config = parseConfig(
  `${configYaml}jobs: { concurrency: ${CONCURRENCY} }\n`,
  join(dir, 'meshops.yaml'),
  dir,
);
const quiet = createLogger('warn');
const rawWorker = (p: string) =>
  new Worker(QUEUE_NAME, async () => null, {
    connection: workerConnection(REDIS_URL),
    prefix: p,
    concurrency: CONCURRENCY,
  });
const ourWorker = (p: string) =>
  startWorker({
    redisTarget: REDIS_URL,
    prefix: p,
    concurrency: config.jobs.concurrency,
    log: quiet,
    dispatch: createDispatch({
      config,
      prefix: p,
      clusters: { all: [], primary: undefined as never, remotes: [], get: () => undefined, names: () => [] },
      redis: undefined as never,
      reply: undefined as never,
      userName: undefined as never,
      handlers: { commands: {}, actions: {}, schedule: async () => {} },
      permissions: undefined as never,
      enqueue: async () => '',
    }),
  });
// Alternate the two in pairs run back to back and take the median of the pairs' ratios: on a shared VM the
// speed of the whole machine drifts between seconds, and a pair's two runs see the same machine.
// A first, uncounted pair warms both up (JIT, Redis' script cache).
const ROUNDS_TP = 7;
const noJob = () => ({});
const ourJob = (i: number) => ({ type: 'schedule', name: `noop-${i % 10}` });
await throughput('benchraw', rawWorker, noJob);
await throughput('benchours', ourWorker, ourJob);
const rawRuns: number[] = [];
const ourRuns: number[] = [];
for (let round = 0; round < ROUNDS_TP; round++) {
  rawRuns.push(await throughput('benchraw', rawWorker, noJob));
  ourRuns.push(await throughput('benchours', ourWorker, ourJob));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const raw = median(rawRuns);
const ours = median(ourRuns);
const ratios = ourRuns.map((o, i) => o / rawRuns[i]!);
const ratio = median(ratios);

const text = `Machine: ${machine()}.

Resident memory (VmRSS) of each role in its own process, idle 3 s after start and the peak while serving
${ROUNDS} rounds of 50 concurrent \`/mesh clusters\` commands:

| role | idle | under 50 concurrent |
| --- | --- | --- |
| app | ${idle.app.toFixed(0)} MiB | ${peak.app.toFixed(0)} MiB |
| worker | ${idle.worker.toFixed(0)} MiB | ${peak.worker.toFixed(0)} MiB |

Worker throughput on ${JOBS} no-op jobs, concurrency ${CONCURRENCY}, same Redis, same run: ${ROUNDS_TP} pairs run back to back after one warm-up pair, medians:

| worker | jobs/s |
| --- | --- |
| raw BullMQ (processor returns at once) | ${raw.toFixed(0)} |
| meshops worker (payload parsed, child logger, time bound, metrics) | ${ours.toFixed(0)} |

Ratio meshops / raw, the median of the pairs' ratios: **${ratio.toFixed(2)}×** (target ≥ 0.8×; the pairs ranged
${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×). The Kubernetes manifests in
\`deploy/kubernetes/base\` set requests and limits from these figures with headroom.`;
process.stdout.write(`${text}\n`);
writeSection('Operations: memory and worker throughput', text);
process.exit(0);
