import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { type Harness, startHarness, unreachableMesh } from '../helpers/harness.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';

const { dir, configYaml } = unreachableMesh('admitwait');

/** Clients of `redis` blocked in WAIT right now, as CLIENT LIST shows them. */
async function blockedInWait(redis: Redis): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  return list.split('\n').filter((l) => /\bcmd=wait\b/.test(l) && /\bflags=\S*b/.test(l)).length;
}

/**
 * A Redis without replicas and REDIS_WAIT_REPLICAS=1: every admission's WAIT runs out its full time. What is
 * observed is Redis itself: how many admissions wait for a replica at the same moment.
 */
describe('admissions arriving together wait for replicas side by side', () => {
  let redis: PrivateRedis;
  let h: Harness;
  let observer: Redis;
  before(async () => {
    redis = await PrivateRedis.start();
    observer = new Redis(redis.url);
    h = await startHarness({
      configYaml,
      configDir: dir,
      label: 'admitwait',
      role: 'app',
      redisUrl: redis.url,
      env: { REDIS_WAIT_REPLICAS: '1' },
    });
  });
  after(async () => {
    await h.close();
    observer.disconnect();
    await redis.down();
  });

  it('six users at once: their WAITs are in flight together, and each hears queued or why not', async (t) => {
    const users = Array.from({ length: 6 }, (_, i) => `U0WAIT${i}`);
    let answered = false;
    const acks = Promise.all(
      users.map((user, i) => h.command('status', { user, channel: `C0WAIT${i}` })),
    ).finally(() => {
      answered = true;
    });
    let most = 0;
    while (!answered) most = Math.max(most, await blockedInWait(observer));

    for (const a of await acks) {
      assert.equal(a.status, 200);
      if (a.body === '') continue;
      const text = String((JSON.parse(a.body) as { text?: string }).text);
      assert.match(text, /^:x: Not queued: the job queue \(Redis\) is unavailable \(.+\)\./);
    }
    // One shared connection holds one WAIT at a time: the second user's waited behind the first's.
    assert.ok(most >= 2, `at most ${most} admission(s) waited for a replica at once`);
    t.diagnostic(`${most} of 6 admissions were blocked in WAIT at the same moment`);
    const warned = h.logs.lines.filter((l) =>
      l.includes('a command was acked before a Redis replica confirmed it'),
    );
    assert.ok(warned.length >= 1, 'the short waits are logged');
  });

  it('more users at once than admission connections: the later ones are acked like the first, not refused', async () => {
    // 8 lanes, each held by a WAIT that runs out its full time: the last four get theirs half-way through
    // their bound, and their WAIT must end within what is left of it.
    const users = Array.from({ length: 12 }, (_, i) => `U0LATE${i}`);
    const acks = await Promise.all(
      users.map((user, i) => h.command('status', { user, channel: `C0LATE${i}` })),
    );
    const refused = acks
      .map((a, i) => (a.body === '' ? undefined : `${users[i]}: ${a.body}`))
      .filter((r) => r !== undefined);
    // Before, a lane taken late waited a full WAIT past its bound: exactly the first 8 were queued, every time.
    // A loaded machine may still make one late admission miss its bound; most must not.
    assert.ok(refused.length <= 3, `more than the first 8 are queued; refused:\n${refused.join('\n')}`);
  });
});
