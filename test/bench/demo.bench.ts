// `npm run demo` from start to a usable console (target < 1 minute), its first `/mesh status` and its shutdown.
// Run alone: npm exec -- node test/bench/demo.bench.ts
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath } from '../../src/demo/redis.ts';
import { REFUSED_PORT } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';
import { machine, percentile, writeSection } from './report.ts';

const MAIN = fileURLToPath(new URL('../../src/demo/main.ts', import.meta.url));
const RUNS = 5;

interface Sample {
  ready: number;
  usable: number;
  status: number;
  stop: number;
}

/** Reads the console's event stream until a message matches, as the page would show it. */
async function until(url: string, match: RegExp): Promise<void> {
  const controller = new AbortController();
  const res = await fetch(`${url}console/events?user=U0ALICE`, { signal: controller.signal });
  let text = '';
  try {
    for await (const chunk of res.body!) {
      text += Buffer.from(chunk as Uint8Array).toString('utf8');
      if (match.test(text)) return;
    }
  } finally {
    controller.abort();
  }
}

async function once(redisUrl: string): Promise<Sample> {
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN, '--port', '0'], {
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      DEMO_DIR: mkdtempSync(join(tmpdir(), 'meshops-demo-bench-')),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = (
    await waitFor('the demo to be ready', () => /Ready in .*\n\n\s+(http:\S+)/.exec(out) ?? undefined, 60_000)
  )[1]!;
  const ready = performance.now() - started;
  await (await fetch(url)).text();
  await (await fetch(`${url}console.js`)).text();
  await until(url, /event: snapshot/);
  const usable = performance.now() - started;

  const asked = performance.now();
  const stream = until(url, /\/mesh status<\/code> requested by .{0,80}(healthy|degraded|down|failed)/);
  await fetch(`${url}console/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'U0ALICE', channel: 'C0MESHOPS', text: '/mesh status' }),
  });
  await stream;
  const status = performance.now() - asked;

  const stopping = performance.now();
  child.kill('SIGINT');
  await exited;
  return { ready, usable, status, stop: performance.now() - stopping };
}

const redisUrl = onPath('redis-server')
  ? `redis://127.0.0.1:${REFUSED_PORT}`
  : (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const nodeStart = (() => {
  const t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - t;
})();
const samples: Sample[] = [];
for (let i = 0; i < RUNS; i++) samples.push(await once(redisUrl));

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const row = (label: string, pick: (x: Sample) => number) => {
  const sorted = samples.map(pick).sort((a, b) => a - b);
  return `| ${label} | ${s(percentile(sorted, 50))} | ${s(sorted[sorted.length - 1]!)} |`;
};
const redisNote = redisUrl.includes('6379')
  ? 'the local Redis'
  : 'its own private redis-server (none answered at REDIS_URL)';
const body = `
\`npm run demo\` (as \`node src/demo/main.ts --port 0\`) started ${RUNS} times, each with ${redisNote}: the
simulated clusters, the console and the bot (app + worker) in one process. "Usable" is the console page, its script
and the first event-stream snapshot loaded, as a browser does. Floor for comparison, measured in the same run:
starting Node itself (\`node -e 0\`) takes ${s(nodeStart)}. Machine: ${machine()}.

| from → to | median | slowest |
| --- | --- | --- |
${row('start → "Ready" printed', (x) => x.ready)}
${row('start → console usable', (x) => x.usable)}
${row('first /mesh status typed → verdict in the console (with Slack’s 1 message/s pacing)', (x) => x.status)}
${row('Ctrl-C → process exited (sim, bot, private Redis stopped)', (x) => x.stop)}

Target: a usable console in < 1 minute; slowest run: **${s(Math.max(...samples.map((x) => x.usable)))}**.
`;
process.stdout.write(body);
writeSection('Demo: start to a usable console', body);
