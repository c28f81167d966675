import assert from 'node:assert/strict';
import { after, describe, it, mock } from 'node:test';
import { Redis } from 'ioredis';
import { createRateLimiter } from '../../src/access/rate-limit.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

describe('the per-user rate limit', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = uniquePrefix('ratelimit');
  after(async () => {
    mock.timers.reset();
    await dropPrefix(prefix);
    redis.disconnect();
  });

  it('is not reset by the wall clock: a burst across a minute boundary gets one allowance, not two', async () => {
    const check = createRateLimiter(redis, prefix, 3, 60_000);
    // The process's clock a millisecond before a minute starts; Redis keeps its own time.
    mock.timers.enable({ apis: ['Date'], now: 60_000 * 29_000_000 - 1 });
    const first = [await check('U0EDGE'), await check('U0EDGE'), await check('U0EDGE')];
    mock.timers.tick(2);
    const rest = [await check('U0EDGE'), await check('U0EDGE'), await check('U0EDGE')];
    mock.timers.reset();
    assert.deepEqual(
      first.map((d) => d.ok),
      [true, true, true],
    );
    assert.deepEqual(
      rest.map((d) => d.ok),
      [false, false, false],
    );
    const refused = rest[0]!;
    assert.ok(
      !refused.ok && refused.retryInMs > 59_000 && refused.retryInMs <= 60_000,
      'a full minute to wait',
    );
  });

  it('counts each user on their own', async () => {
    const check = createRateLimiter(redis, prefix, 1, 60_000);
    assert.equal((await check('U0ONE')).ok, true);
    assert.equal((await check('U0ONE')).ok, false);
    assert.equal((await check('U0TWO')).ok, true);
  });
});
