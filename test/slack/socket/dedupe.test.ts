import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createEnvelopeDedupe, envelopeKeys } from '../../../src/slack/socket/dedupe.ts';
import { REFUSED_PORT } from '../../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../../helpers/redis.ts';

const docs = JSON.parse(
  readFileSync(new URL('../../fixtures/socket/slack-docs-socket-mode.json', import.meta.url), 'utf8'),
) as { slash_commands: { envelope_id: string; type: string; payload: Record<string, unknown> } };
const silent = pino({ level: 'silent' });

describe('which names an envelope is remembered under', () => {
  it("a slash command: its envelope and its trigger_id (Slack's documented envelope)", () => {
    const e = docs.slash_commands;
    assert.deepEqual(envelopeKeys({ envelope_id: e.envelope_id, type: e.type, body: e.payload }), [
      'envelope:dbdd0ef3-1543-4f94-bfb4-133d0e6c1545',
      'trigger:37053613634.26768298162.440952c06ef4de2653466a48fe495f93',
    ]);
  });

  it('an Events API event: its event_id, which a retry in a new envelope keeps', () => {
    assert.deepEqual(
      envelopeKeys({ envelope_id: 'e2', type: 'events_api', body: { event_id: 'Ev01', trigger_id: 'no' } }),
      ['envelope:e2', 'event:Ev01'],
    );
  });

  it('an envelope without a payload id: the envelope alone', () => {
    assert.deepEqual(envelopeKeys({ envelope_id: 'e3', type: 'interactive', body: { trigger_id: '' } }), [
      'envelope:e3',
    ]);
    assert.deepEqual(envelopeKeys({ envelope_id: 'e4', type: 'interactive', body: null }), ['envelope:e4']);
  });
});

describe('claiming envelopes in Redis', () => {
  const prefix = uniquePrefix('dedupe');
  let redis: Redis;
  before(() => {
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it('lets the first delivery through and stops the same envelope and a retry in a new envelope', async () => {
    const dedupe = createEnvelopeDedupe({ redis, prefix, log: silent, ttlMs: 60_000 });
    assert.equal(await dedupe.claim(['envelope:a', 'trigger:t1']), true);
    assert.equal(await dedupe.claim(['envelope:a', 'trigger:t1']), false, 'same envelope redelivered');
    assert.equal(await dedupe.claim(['envelope:b', 'trigger:t1']), false, 'retry in a new envelope');
    assert.equal(await dedupe.claim(['envelope:c', 'trigger:t2']), true, 'a different command');
    const ttl = await redis.pttl(`${prefix}:socket:seen:trigger:t1`);
    assert.ok(ttl > 0 && ttl <= 60_000, `keys expire (pttl ${ttl})`);
  });

  it('holds across replicas: a second app with its own Redis client sees the claim', async () => {
    const other = new Redis(REDIS_URL);
    try {
      const a = createEnvelopeDedupe({ redis, prefix, log: silent });
      const b = createEnvelopeDedupe({ redis: other, prefix, log: silent });
      const results = await Promise.all([a.claim(['envelope:race']), b.claim(['envelope:race'])]);
      assert.deepEqual(results.toSorted(), [false, true]);
    } finally {
      other.disconnect();
    }
  });

  it('handles the envelope when Redis does not answer, rather than dropping a command', async () => {
    const down = new Redis({ port: REFUSED_PORT, lazyConnect: true, maxRetriesPerRequest: 0 });
    down.on('error', () => {});
    try {
      const dedupe = createEnvelopeDedupe({ redis: down, prefix, log: silent, timeoutMs: 300 });
      assert.equal(await dedupe.claim(['envelope:z']), true);
    } finally {
      down.disconnect();
    }
  });
});
