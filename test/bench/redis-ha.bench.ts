// Redis behind Sentinel: what the wait for a replica costs an ack, and how long commands are refused while
// the Sentinels replace a killed master. Real redis-server and redis-sentinel processes on loopback.
import { redisTarget } from '../../src/config/redis.ts';
import type { MeshJob } from '../../src/queue/jobs.ts';
import { createProducer, type Producer } from '../../src/queue/producer.ts';
import { uniquePrefix } from '../helpers/redis.ts';
import { startSentinelLab } from '../helpers/sentinel.ts';
import { machine, percentile, writeSection } from './report.ts';

const ROUNDS = 5;
const PER_ROUND = 400;

const job = (): MeshJob => ({
  type: 'command',
  command: { kind: 'clusters' },
  text: '/mesh clusters',
  user: 'U0BENCH',
  channel: 'C0BENCH',
  requestedAt: Date.now(),
});

async function round(producer: Producer): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < PER_ROUND; i++) {
    const t = performance.now();
    await producer.enqueue(job());
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b);
}

const lab = await startSentinelLab();
const prefix = uniquePrefix('bench-ha');
const target = redisTarget({
  REDIS_URL: 'redis://127.0.0.1',
  REDIS_SENTINELS: lab.sentinelList,
  REDIS_SENTINEL_NAME: lab.name,
  REDIS_PASSWORD: lab.password,
});
const closing = new AbortController();
const location = { ...target, closing: closing.signal };
const withWait = createProducer(location, prefix); // production default: 1 replica, since the master has one
const withoutWait = createProducer(location, prefix, { replicas: { wanted: 0 } });
try {
  await round(withWait);
  await round(withoutWait);
  const results = { on: [] as number[][], off: [] as number[][] };
  for (let r = 0; r < ROUNDS; r++) {
    results.on.push(await round(withWait));
    results.off.push(await round(withoutWait));
  }
  const median = (rounds: number[][], p: number) =>
    rounds.map((s) => percentile(s, p)).sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
  const row = (name: string, rounds: number[][]) =>
    `| ${name} | ${median(rounds, 50).toFixed(2)} ms | ${median(rounds, 99).toFixed(2)} ms |`;

  // Failover: kill -9 the master, then enqueue every 50 ms until one is accepted again.
  const killedAt = performance.now();
  await lab.killMaster();
  let refused = 0;
  for (;;) {
    try {
      await withWait.enqueue(job());
      break;
    } catch {
      refused += 1;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const recoveredS = (performance.now() - killedAt) / 1000;

  writeSection(
    'Redis behind Sentinel: the ack waits for a replica',
    `
The part of the ack that writes the command to Redis (\`producer.enqueue\`: the BullMQ add, then \`WAIT 1\` until
the replica has it), against the same producer with the wait switched off (\`REDIS_WAIT_REPLICAS=0\`), in the
same run: ${ROUNDS} alternating rounds of ${PER_ROUND} sequential enqueues after one warm-up round each, the
round with the median figure shown. A master, one replica and three Sentinels, real processes on loopback
(\`test/helpers/sentinel.ts\`, down-after 1 s). Machine: ${machine()}.

| enqueue | p50 | p99 |
| --- | --- | --- |
${row('production default (wait for 1 replica)', results.on)}
${row('wait switched off', results.off)}

p50 ratio with / without the wait: **${(median(results.on, 50) / median(results.off, 50)).toFixed(2)}×**. On
loopback the replica is microseconds away; across zones the wait adds one replica round trip (bounded at
500 ms).

Failover: after \`kill -9\` of the master, enqueues were refused ("not queued", the user is told to retry) for
**${recoveredS.toFixed(1)} s** (${refused} attempts 50 ms apart) until the Sentinels had promoted the replica and
the producer had reconnected to it.
`,
  );
  console.log(
    `wait on p50 ${median(results.on, 50).toFixed(2)} ms, off ${median(results.off, 50).toFixed(2)} ms; failover ${recoveredS.toFixed(1)} s`,
  );
} finally {
  await withWait.close().catch(() => {});
  await withoutWait.close().catch(() => {});
  closing.abort();
  await lab.stop();
}
