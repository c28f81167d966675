import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/queue/connection.ts';
import { ensureParent, inParentTurn } from '../../src/queue/parent.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';

describe('the parent message of a run', () => {
  let server: PrivateRedis;
  let redis: Redis;
  before(async () => {
    server = await PrivateRedis.start();
    redis = createRedis(server.url);
    redis.on('error', () => {}); // refused connections while the server is down are the point
  });
  after(async () => {
    redis.disconnect();
    await server.down();
  });

  it('is recorded when Redis goes away while Slack takes the post, so a retry updates it instead of posting again', async () => {
    const key = 'meshops-test:run:1:parent';
    let restarted: Promise<void> | undefined;
    const first = await ensureParent(redis, key, async () => {
      // Slack has the message; Redis dies before its ts is recorded and is back 1.5 s later (a failover).
      await server.down();
      restarted = new Promise((r) => setTimeout(r, 1500)).then(() => server.up());
      return '1796322557.000100';
    }).finally(() => restarted);
    assert.deepEqual(first, { ts: '1796322557.000100', posted: true });
    assert.equal(await redis.get(key), '1796322557.000100');

    const retry = await ensureParent(redis, key, async () => assert.fail('a second parent was posted'));
    assert.deepEqual(retry, { ts: '1796322557.000100', posted: false });
  });

  it('lets its writers take turns: a second write starts only once the first has ended', async () => {
    const order: string[] = [];
    let endFirst: () => void = () => {};
    const first = inParentTurn(redis, 'meshops-test:', 'C0TURN', '1.000', async () => {
      order.push('first starts');
      await new Promise<void>((resolve) => {
        endFirst = resolve;
      });
      order.push('first ends');
    });
    while (order.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = inParentTurn(redis, 'meshops-test:', 'C0TURN', '1.000', async () => {
      order.push('second');
    });
    // The second writer is asking for its turn meanwhile; let it ask a few times.
    for (let i = 0; i < 3; i++) await redis.ping();
    endFirst();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first starts', 'first ends', 'second']);
  });
});
