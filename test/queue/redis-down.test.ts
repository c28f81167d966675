import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, unreachableKubeconfig } from '../helpers/harness.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

describe('when Redis goes away', () => {
  let redis: PrivateRedis;
  let h: Harness;
  before(async () => {
    redis = await PrivateRedis.start();
    const dir = mkdtempSync(join(tmpdir(), 'meshops-redis-down-'));
    unreachableKubeconfig(dir, 'icp');
    h = await startHarness({
      configDir: dir,
      label: 'redisdown',
      redisUrl: redis.url,
      configYaml: 'clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]',
    });
    await waitFor('the worker to connect', () => h.meshops.worker?.isRunning());
  });
  after(async () => {
    await h.close();
    await redis.down();
  });

  it('tells the user within 3 s that the queue is unavailable, turns /readyz unready, and recovers by itself', async () => {
    await redis.down();
    await waitFor(
      '/readyz to turn unready',
      async () => (await fetch(`${h.meshops.url}/readyz`)).status === 503,
    );

    const started = Date.now();
    const res = await h.command('clusters', { channel: 'C0NOREDIS' });
    assert.equal(res.status, 200);
    const [reply] = await waitFor('the ephemeral reply', () => h.slack.responses.get(res.responseId), 3000);
    assert.ok(Date.now() - started < 3000, 'the user reads it within 3 s');
    assert.match(String(reply!.text), /Not queued: the job queue \(Redis\) is unavailable/);
    const parent = h.parents('C0NOREDIS')[0]!;
    assert.match(parent.text, /not queued/);

    await redis.up();
    await waitFor(
      '/readyz to recover',
      async () => (await fetch(`${h.meshops.url}/readyz`)).status === 200,
      20_000,
    );
    await waitFor(
      'a command to run again',
      async () => {
        await h.command('clusters', { channel: 'C0BACK' });
        return h.parents('C0BACK').length > 0;
      },
      20_000,
    );
    const final = await h.waitForVerdict('C0BACK', '/mesh clusters', 30_000);
    assert.match(final.text, /\*down\*/, 'the job ran to its verdict once Redis was back');
  });
});
