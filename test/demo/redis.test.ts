import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { clearPrefix, onPath, RedisUnavailableError, resolveRedis } from '../../src/demo/redis.ts';
import { REFUSED_PORT } from '../helpers/harness.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the demo’s Redis', () => {
  it('uses REDIS_URL when it answers', async () => {
    const redis = await resolveRedis(REDIS_URL);
    assert.equal(redis.url, REDIS_URL);
    assert.equal(redis.privateServer, undefined);
    await redis.stop();
  });

  it('starts a private redis-server on a free port when none answers, and stops it', async (t) => {
    if (!onPath('redis-server')) return t.skip('redis-server is not installed here');
    const redis = await resolveRedis(`redis://127.0.0.1:${REFUSED_PORT}`);
    const server = redis.privateServer;
    assert.ok(server, 'a private server was started');
    const client = new Redis(redis.url);
    assert.equal(await client.ping(), 'PONG');
    client.disconnect();
    await redis.stop();
    assert.equal(alive(server.pid), false, 'the private redis-server is gone');
  });

  it('says what to run when nothing answers and redis-server is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(resolveRedis(`redis://127.0.0.1:${REFUSED_PORT}`), (err: Error) => {
        assert.ok(err instanceof RedisUnavailableError);
        assert.match(err.message, /docker compose up -d redis/);
        assert.match(err.message, /REDIS_URL=/);
        return true;
      });
    } finally {
      process.env.PATH = path;
    }
  });

  it('clears only the demo’s own keys', async () => {
    const prefix = uniquePrefix('demo-clear');
    const other = uniquePrefix('demo-keep');
    const client = new Redis(REDIS_URL);
    try {
      await client.set(`${prefix}:a`, '1');
      await client.set(`${prefix}:mesh-jobs:b`, '1');
      await client.set(`${other}:a`, '1');
      await clearPrefix(REDIS_URL, prefix);
      assert.deepEqual(await client.keys(`${prefix}:*`), []);
      assert.equal(await client.get(`${other}:a`), '1');
    } finally {
      await client.del(`${other}:a`);
      client.disconnect();
    }
  });
});
