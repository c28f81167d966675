import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { historyStore } from '../../src/history/store.ts';
import { type Harness, startHarness, unreachableKubeconfig } from '../helpers/harness.ts';
import { REDIS_URL } from '../helpers/redis.ts';
import { handlersWith, queueFor, settableChecks, tick } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshops-schedule-chart-'));
unreachableKubeconfig(dir, 'icp');
const CONFIG = `
clusters:
  - name: icp
    role: primary
    kubeconfig: ./icp.kubeconfig
schedules:
  - name: charted
    cron: "0 8 * * *"
    timezone: UTC
    channel: C0CHART
  - name: limited
    cron: "0 8 * * *"
    timezone: UTC
    channel: C0LIMITED
`;

const blocksText = (m: { blocks: unknown[] }) => JSON.stringify(m.blocks);
const MIN = 60_000;

/** The day's digest with the chart of the last 24 h, from the runs history kept (written here as checks would). */
describe('the daily digest’s chart of the last 24 h', () => {
  let h: Harness;
  let queue: Queue;
  let redis: Redis;
  const mesh = settableChecks();

  before(async () => {
    h = await startHarness({
      configYaml: CONFIG,
      configDir: dir,
      label: 'schedchart',
      handlers: handlersWith(mesh.checks),
    });
    queue = queueFor(h.prefix);
    redis = new Redis(REDIS_URL);
    const history = historyStore({ redis, prefix: h.prefix, config: h.meshops.config });
    const now = Date.now();
    for (let i = 12; i >= 1; i--) {
      const at = now - i * 60 * MIN;
      await history.record('vpn', at, {
        verdict: 'healthy',
        pairs: { 'iks>icp/pilot': { status: 'ok', avgMs: 40 + i, lossPercent: i === 3 ? 33.3 : 0 } },
      });
      await history.record('status', at, {
        health: 'healthy',
        clusters: [{ name: 'icp', reachable: true, components: [] }],
        proxies: { total: 7, synced: i === 3 ? 4 : 7, stale: 0, notSent: 0, unknown: 0, staleIds: [] },
      });
      await history.record('proxies', at + MIN, {
        total: 7,
        synced: 7,
        stale: 0,
        notSent: 0,
        unknown: 0,
        staleIds: [],
      });
    }
    // An older run than a day is not on the chart; a corrupt one is skipped.
    await history.record('vpn', now - 25 * 60 * MIN, { verdict: 'healthy', pairs: {} });
    await redis.zadd(`${h.prefix}:history:status`, now - 30 * MIN, 'not json');
  });
  after(async () => {
    redis.disconnect();
    await queue.close();
    await h.close();
  });

  it('the day’s first run posts the digest, then the chart in its thread; later runs add no chart', async () => {
    assert.equal(await tick(queue, 'charted'), 'completed');
    const [digest] = h.parents('C0CHART');
    assert.ok(digest);
    const [chart] = h.thread('C0CHART', digest.ts);
    const file = chart?.files?.[0];
    assert.equal(file?.mimetype, 'image/png');
    assert.equal(file?.title, 'Mesh health, last 24 h');
    assert.ok((await fetch(file.url).then((r) => r.arrayBuffer())).byteLength > 10_000);
    const upload = h.slack.calls.find((c) => c.method === 'files.getUploadURLExternal');
    assert.match(String(upload?.args.alt_txt), /from 12 status, 12 VPN and 12 proxy runs/);

    assert.equal(await tick(queue, 'charted'), 'completed');
    assert.equal(h.thread('C0CHART', digest.ts).length, 1, 'one chart a day');
    assert.match(blocksText(h.parents('C0CHART')[0]!), /2 runs today/);
  });

  it('a rate-limited upload costs the chart, never the digest: posted, and the thread says why', async () => {
    h.slack.fault({ method: 'files.getUploadURLExternal', status: 429, retryAfter: 0, times: 10 });
    assert.equal(await tick(queue, 'limited'), 'completed');
    const [digest] = h.parents('C0LIMITED');
    assert.ok(digest);
    assert.match(digest.text, /Mesh health \(limited\): healthy/);
    const thread = h.thread('C0LIMITED', digest.ts);
    assert.equal(thread.length, 1);
    assert.equal(thread[0]!.files, undefined);
    assert.match(
      thread[0]!.text,
      /The chart of the last 24 h could not be posted \(ratelimited\); the digest above is complete\./,
    );
    assert.equal(await tick(queue, 'limited'), 'completed');
    assert.equal(h.parents('C0LIMITED').length, 1, 'the next run edits the same digest');
  });
});
