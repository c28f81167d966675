import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { historyKey, historyStore } from '../../src/history/store.ts';
import { parseRuns } from '../../src/mesh/history.ts';
import { vpnRunSchema } from '../../src/mesh/vpn/history.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const HOUR = 3_600_000;
const run = (status: 'ok' | 'lost') => ({ verdict: 'healthy', pairs: { 'iks>icp/pilot': { status } } });

describe('check history in Redis', () => {
  const redis = new Redis(REDIS_URL);
  const prefixes: string[] = [];
  const store = (maxEntries: number, maxAge: number, now: () => number) => {
    const prefix = uniquePrefix('history');
    prefixes.push(prefix);
    return {
      prefix,
      history: historyStore({ redis, prefix, config: { history: { maxEntries, maxAge } }, now }),
    };
  };
  after(async () => {
    for (const p of prefixes) await dropPrefix(p);
    redis.disconnect();
  });

  it('keeps at most maxEntries runs per kind, the newest', async () => {
    const t0 = Date.UTC(2026, 11, 3, 8);
    const { history } = store(3, 48 * HOUR, () => t0 + 10 * HOUR);
    for (let i = 0; i < 5; i++) await history.record('vpn', t0 + i * HOUR, run('ok'));
    await history.record('status', t0, { health: 'healthy', clusters: [] });
    assert.deepEqual(
      (await history.since('vpn', 0)).map((r) => r.at),
      [t0 + 2 * HOUR, t0 + 3 * HOUR, t0 + 4 * HOUR],
    );
    assert.equal((await history.since('status', 0)).length, 1, 'each kind has its own bound');
    assert.equal((await history.last('vpn'))?.at, t0 + 4 * HOUR);
    assert.equal((await history.last('vpn', t0 + 3.5 * HOUR))?.at, t0 + 3 * HOUR);
    assert.equal((await history.first('vpn', t0 + 2.5 * HOUR))?.at, t0 + 3 * HOUR);
    assert.equal(await history.first('vpn', t0 + 5 * HOUR), undefined);
  });

  it('drops runs older than maxAge at the next write, and expires a kind no longer written', async () => {
    let now = Date.UTC(2026, 11, 3, 8);
    const { history, prefix } = store(100, 24 * HOUR, () => now);
    await history.record('vpn', now, run('ok'));
    now += 25 * HOUR;
    await history.record('vpn', now, run('lost'));
    const kept = await history.since('vpn', 0);
    assert.deepEqual(
      kept.map((r) => r.at),
      [now],
    );
    const ttl = await redis.pttl(historyKey(prefix, 'vpn'));
    assert.ok(ttl > 23 * HOUR && ttl <= 24 * HOUR, String(ttl));
  });

  it('a corrupt or foreign entry is skipped; the others are still read', async () => {
    const now = Date.UTC(2026, 11, 3, 8);
    const { history, prefix } = store(100, 24 * HOUR, () => now);
    await history.record('vpn', now - 3000, run('ok'));
    await redis.zadd(historyKey(prefix, 'vpn'), now - 2000, '{not json');
    await redis.zadd(
      historyKey(prefix, 'vpn'),
      now - 1000,
      JSON.stringify({ at: now - 1000, data: { old: 'format' } }),
    );
    await history.record('vpn', now, run('lost'));
    const runs = parseRuns(vpnRunSchema, await history.since('vpn', 0));
    assert.deepEqual(
      runs.map((r) => [r.at, r.pairs['iks>icp/pilot']?.status]),
      [
        [now - 3000, 'ok'],
        [now, 'lost'],
      ],
    );
  });
});
