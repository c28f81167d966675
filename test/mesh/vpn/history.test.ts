import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Run } from '../../../src/mesh/history.ts';
import { compare, type VpnRun } from '../../../src/mesh/vpn/history.ts';

const snap = (at: number, pairs: VpnRun['pairs']): Run<VpnRun> => ({ at, verdict: 'healthy', pairs });

describe('comparison with the previous run', () => {
  it('newly failing, recovered, RTT up and down beyond the threshold', () => {
    const before = snap(Date.UTC(2026, 10, 27, 10), {
      'iks>icp/pilot': { status: 'ok', avgMs: 50 },
      'iks>icp/policy': { status: 'ok', avgMs: 50 },
      'iks>icp/zipkin': { status: 'lost' },
      'icp>iks/reviews-v3': { status: 'ok', avgMs: 50 },
      'icp>iks/ratings': { status: 'ok', avgMs: 50 },
    });
    const now = snap(Date.UTC(2026, 10, 27, 11), {
      'iks>icp/pilot': { status: 'lost' },
      'iks>icp/policy': { status: 'slow', avgMs: 120 },
      'iks>icp/zipkin': { status: 'ok', avgMs: 60 },
      'icp>iks/reviews-v3': { status: 'ok', avgMs: 20 },
      'icp>iks/ratings': { status: 'ok', avgMs: 70 },
      'icp>iks/new-app': { status: 'lost' },
    });
    const c = compare(before, now, 50);
    assert.equal(c.previousAt, '2026-11-27T10:00:00.000Z');
    assert.deepEqual(c.newlyFailing, ['iks>icp/pilot']);
    assert.deepEqual(c.recovered, ['iks>icp/zipkin']);
    assert.deepEqual(c.rttUp, [{ key: 'iks>icp/policy', beforeMs: 50, afterMs: 120, percent: 140 }]);
    assert.deepEqual(c.rttDown, [{ key: 'icp>iks/reviews-v3', beforeMs: 50, afterMs: 20, percent: -60 }]);
  });

  it('ignores sub-millisecond jitter however large in percent', () => {
    const c = compare(
      snap(1, { k: { status: 'ok', avgMs: 0.05 } }),
      snap(2, { k: { status: 'ok', avgMs: 0.4 } }),
      50,
    );
    assert.deepEqual(c.rttUp, []);
  });
});
