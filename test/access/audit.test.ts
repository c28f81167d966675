import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createAudit } from '../../src/access/audit.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

describe('the audit stream', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = uniquePrefix('audit');
  after(async () => {
    await dropPrefix(prefix);
    redis.disconnect();
  });

  it('is capped by length as well as by age: a flood of entries keeps only the newest', async () => {
    const audit = createAudit({
      redis,
      prefix,
      retentionMs: 86_400_000,
      maxEntries: 5,
      log: pino({ level: 'silent' }),
    });
    for (let i = 0; i < 12; i++)
      await audit.record({
        action: 'refused',
        who: 'U0FLOOD',
        kind: 'command',
        subject: `/mesh x ${i}`,
        result: 'not queued',
      });
    assert.equal(await redis.xlen(`${prefix}:audit`), 5);
    assert.deepEqual(
      (await audit.latest(100)).map((e) => e.subject),
      ['/mesh x 11', '/mesh x 10', '/mesh x 9', '/mesh x 8', '/mesh x 7'],
    );
  });
});
