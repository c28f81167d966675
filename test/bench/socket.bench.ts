// Socket Mode: ack latency of `/mesh clusters` over the WebSocket (p50/p99 over 1,000 envelopes at 20 in flight)
// against Bolt's stock SocketModeReceiver whose handler only acks, measured in the same run, each app in its own
// process; then how long the app takes, with its production watchdog timings, to be back after the connection
// breaks, after Slack asks for a refresh, and after the peer goes silent.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSlackApi } from '../../src/console/slack-api.ts';
import { WATCHDOG_DEFAULTS } from '../../src/slack/socket/watchdog.ts';
import { APP_TOKEN, type FakeSocketMode, startFakeSocketMode } from '../helpers/fake-socket-mode.ts';
import { BOT_TOKEN, freePort, unreachableKubeconfig } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import { startProcess } from './processes.ts';
import { machine, percentile, writeSection } from './report.ts';

const TOTAL = 1000;
const IN_FLIGHT = 20;
const WARM_UP = 200;

async function fire(socket: FakeSocketMode, total: number, tag: string): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  async function lane() {
    while (next < total) {
      const i = next++;
      const { ack } = await socket.command('clusters', {
        userId: `U0BENCH${i % 40}`,
        channelId: `C0${tag}${i % 50}`,
      });
      latencies.push(ack.ms);
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return latencies.sort((a, b) => a - b);
}

/** Milliseconds from `breakIt` until a command on a new connection is acknowledged. */
async function recovery(socket: FakeSocketMode, breakIt: () => void): Promise<number> {
  const n = socket.connections.length;
  const started = performance.now();
  breakIt();
  await socket.waitForConnection(n + 1, 120_000);
  await socket.command('clusters', { channelId: 'C0RECOVER' });
  return performance.now() - started;
}

const slack = await startSlackApi();
const socket = await startFakeSocketMode(slack);
const prefix = uniquePrefix('benchsocket');
const dir = mkdtempSync(join(tmpdir(), 'meshops-bench-socket-'));
unreachableKubeconfig(dir, 'icp');
writeFileSync(
  join(dir, 'meshops.yaml'),
  `clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]
access: { rateLimit: { commands: 100000, per: 1m } }
`,
);

const bare = (
  await startProcess(
    ['test/bench/bare-bolt-socket.ts'],
    { SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: slack.url },
    /connected/,
  )
).proc;
await fire(socket, WARM_UP, 'WARMB');
const bareLat = await fire(socket, TOTAL, 'BARE');
bare.kill();

const app = (
  await startProcess(
    ['src/main.ts', 'app'],
    {
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: slack.url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      MESHOPS_CONFIG: join(dir, 'meshops.yaml'),
      PORT: String(await freePort()),
      OPS_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    },
    /Slack app in Socket Mode/,
  )
).proc;
await fire(socket, WARM_UP, 'WARMM');
const meshLat = await fire(socket, TOTAL, 'MESH');
const parents = await waitFor(
  'a parent message per command',
  () => {
    const n = slack.messages.filter((m) => m.channel.startsWith('C0MESH') && !m.thread_ts).length;
    return n >= TOTAL ? n : false;
  },
  60_000,
).catch(() => slack.messages.filter((m) => m.channel.startsWith('C0MESH') && !m.thread_ts).length);

const dropMs = await recovery(socket, () => socket.live()!.drop());
const refreshMs = await recovery(socket, () => socket.live()!.disconnect('refresh_requested'));
// A connection that has been working: the app has pinged it and heard the pongs.
const working = socket.live()!;
await waitFor('the app to ping the new connection', () => working.pingsFromApp >= 2, 30_000);
const silentMs = await recovery(socket, () => working.silence());
app.kill('SIGTERM');
await new Promise((resolve) => app.once('exit', resolve));

const row = (name: string, l: number[]) =>
  `| ${name} | ${percentile(l, 50).toFixed(1)} ms | ${percentile(l, 99).toFixed(1)} ms | ${l.at(-1)!.toFixed(1)} ms |`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const text = `Ack latency of \`/mesh clusters\` over Socket Mode: ${TOTAL} slash-command envelopes with ${IN_FLIGHT} in flight
(after ${WARM_UP} warm-up envelopes each), sent by the local fake of Slack's Socket Mode endpoint
(\`test/helpers/fake-socket-mode.ts\`), timed from sending the envelope to receiving its ack. Baseline: Bolt's stock
\`SocketModeReceiver\` with a handler that only calls \`ack()\`, measured in the same run. Each app runs in its own
process. Machine: ${machine()}.

| app | p50 | p99 | max |
| --- | --- | --- | --- |
${row('bare Bolt SocketModeReceiver', bareLat)}
${row('meshops app (Socket Mode)', meshLat)}

Acks after Slack's 3 s limit: ${socket.lateAcks}. Parent messages: ${parents} of ${TOTAL} (each command ran once).

Back in service (a command on a new connection acknowledged) with the production watchdog timings
(client ping timeout ${s(WATCHDOG_DEFAULTS.clientPingTimeoutMs)}, fake Slack pinging every 1 s):

| what happened | back after |
| --- | --- |
| the TCP connection broke | ${s(dropMs)} |
| Slack asked for a refresh (\`disconnect\`, \`refresh_requested\`) | ${s(refreshMs)} |
| the peer of a working connection went silent (no pings, no pongs, no close) | ${s(silentMs)} |

After silence the client notices its ${s(WATCHDOG_DEFAULTS.clientPingTimeoutMs)} pong timeout at one of its checks every
${s(WATCHDOG_DEFAULTS.clientPingTimeoutMs / 3)}; the watchdog (every ${s(WATCHDOG_DEFAULTS.checkIntervalMs)}) or the client's next check then
gives the socket up, so about 5 to 8.5 s.

A connection Slack stops routing envelopes to while pongs still flow is refreshed after
${WATCHDOG_DEFAULTS.idleTimeoutMs / 60_000} min without an envelope (make-before-break, no unready gap); not timed here.`;
process.stdout.write(`${text}\n`);
writeSection('Socket Mode: ack latency and recovery', text);
await socket.close();
await slack.close();
await dropPrefix(prefix);
process.exit(0);
