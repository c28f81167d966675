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
    redis.thaw();
    await h.close();
    await redis.down();
  });

  const ackOf = (body: string) => JSON.parse(body) as { response_type?: string; text?: string };

  it('says in the ack itself that nothing was queued, posts nothing, and recovers by itself', async () => {
    await redis.down();
    await waitFor(
      '/readyz to turn unready',
      async () => (await fetch(`${h.meshops.opsUrl}/readyz`)).status === 503,
    );

    const res = await h.command('clusters', { channel: 'C0NOREDIS' });
    assert.equal(res.status, 200);
    const ack = ackOf(res.body);
    assert.equal(ack.response_type, 'ephemeral');
    assert.match(String(ack.text), /Not queued: the job queue \(Redis\) is unavailable/);
    assert.match(String(ack.text), /Nothing was run and nothing will be/);

    await redis.up();
    await waitFor(
      '/readyz to recover',
      async () => (await fetch(`${h.meshops.opsUrl}/readyz`)).status === 200,
      60_000,
    );
    // A new user per attempt: retries by one person would run into the per-user rate limit, not Redis.
    let attempt = 0;
    await waitFor(
      'a command to be queued again',
      async () =>
        (await h.command('clusters', { channel: 'C0BACK', user: `U0BACK${attempt++}` })).body === '',
      60_000,
    );
    const final = await h.waitForVerdict('C0BACK', '/mesh clusters', 60_000);
    assert.match(final.text, /\*down\*/, 'the job ran to its verdict once Redis was back');
    assert.equal(h.parents('C0NOREDIS').length, 0, 'the refused command left nothing behind');
  });

  it("answers within Slack's 3 s when Redis hangs, and the late write never runs", async () => {
    redis.freeze();
    const res = await h.command('clusters', { channel: 'C0HUNG' });
    redis.thaw();
    assert.equal(res.status, 200);
    const ack = ackOf(res.body);
    assert.equal(ack.response_type, 'ephemeral');
    assert.match(String(ack.text), /Not queued: .*no answer from Redis within 1000 ms/);

    // Redis answers again and takes the write it held; the worker finds the command abandoned and drops it.
    await h.command('clusters', { channel: 'C0AFTER', user: 'U0AFTER' });
    await h.waitForVerdict('C0AFTER', '/mesh clusters', 60_000);
    await waitFor('the held write to be dropped', () => h.logs.text().includes('nothing was queued'), 60_000);
    assert.equal(h.parents('C0HUNG').length, 0, 'no parent for the command the user was told about');
  });

  it('a click Redis did not take in time is answered "not recorded", and its late write is not acted on', async () => {
    redis.freeze();
    const click = await h.click({
      user: 'U0CLICKHUNG',
      channel: 'C0CLICKHUNG',
      messageTs: '1.000001',
      actionId: 'mesh.approve',
      value: 'ap-0000hung',
    });
    redis.thaw();
    assert.equal(click.status, 200);
    const [answer] = await waitFor('the ephemeral answer', () => h.slack.responses.get(click.responseId));
    assert.match(String(answer!.text), /Not recorded: the job queue \(Redis\) is unavailable\. Click again/);
    await waitFor(
      'the held click to be dropped',
      () => h.logs.text().includes('the clicker that the click was not recorded'),
      60_000,
    );
  });
});
