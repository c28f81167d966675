import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  compare,
  historyKey,
  loadSnapshot,
  type Snapshot,
  saveSnapshot,
} from '../../../src/mesh/vpn/history.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../../helpers/redis.ts';

const snap = (at: string, pairs: Snapshot['pairs']): Snapshot => ({ checkedAt: at, pairs });

describe('comparison with the previous run', () => {
  it('newly failing, recovered, RTT up and down beyond the threshold', () => {
    const before = snap('t1', {
      'iks>icp/pilot': { status: 'ok', avgMs: 50 },
      'iks>icp/policy': { status: 'ok', avgMs: 50 },
      'iks>icp/zipkin': { status: 'lost' },
      'icp>iks/reviews-v3': { status: 'ok', avgMs: 50 },
      'icp>iks/ratings': { status: 'ok', avgMs: 50 },
    });
    const now = snap('t2', {
      'iks>icp/pilot': { status: 'lost' },
      'iks>icp/policy': { status: 'slow', avgMs: 120 },
      'iks>icp/zipkin': { status: 'ok', avgMs: 60 },
      'icp>iks/reviews-v3': { status: 'ok', avgMs: 20 },
      'icp>iks/ratings': { status: 'ok', avgMs: 70 },
      'icp>iks/new-app': { status: 'lost' },
    });
    const c = compare(before, now, 50);
    assert.equal(c.previousAt, 't1');
    assert.deepEqual(c.newlyFailing, ['iks>icp/pilot']);
    assert.deepEqual(c.recovered, ['iks>icp/zipkin']);
    assert.deepEqual(c.rttUp, [{ key: 'iks>icp/policy', beforeMs: 50, afterMs: 120, percent: 140 }]);
    assert.deepEqual(c.rttDown, [{ key: 'icp>iks/reviews-v3', beforeMs: 50, afterMs: 20, percent: -60 }]);
  });

  it('ignores sub-millisecond jitter however large in percent', () => {
    const c = compare(
      snap('a', { k: { status: 'ok', avgMs: 0.05 } }),
      snap('b', { k: { status: 'ok', avgMs: 0.4 } }),
      50,
    );
    assert.deepEqual(c.rttUp, []);
  });
});

describe('the previous run in Redis', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = uniquePrefix('vpnhist');
  after(async () => {
    await dropPrefix(prefix);
    redis.disconnect();
  });

  it('is kept at <prefix>:vpn:last; an unreadable entry means no comparison', async () => {
    assert.equal(await loadSnapshot(redis, prefix), undefined);
    const s = snap('2026-11-27T10:00:00.000Z', { 'iks>icp/pilot': { status: 'ok', avgMs: 52 } });
    await saveSnapshot(redis, prefix, s);
    assert.equal(historyKey(prefix), `${prefix}:vpn:last`);
    assert.deepEqual(await loadSnapshot(redis, prefix), s);
    await redis.set(historyKey(prefix), '{"old":"format"}');
    assert.equal(await loadSnapshot(redis, prefix), undefined);
    await redis.set(historyKey(prefix), 'not json');
    assert.equal(await loadSnapshot(redis, prefix), undefined);
  });
});
