import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { historyStore } from '../../../src/history/store.ts';
import { judgeStatus } from '../../../src/mesh/istio/check.ts';
import type { StatusReport } from '../../../src/mesh/istio/report.ts';
import { statusHistory } from '../../../src/mesh/timeline/changes.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../../helpers/redis.ts';
import { labelsOf, pod, snapshot } from '../istio/snapshots.ts';

const MIN = 60_000;
const pair = (status: 'ok' | 'lost') => ({ verdict: 'healthy', pairs: { 'iks>icp/pilot': { status } } });

function mesh(target?: string): StatusReport {
  const primary = snapshot('icp', 'primary', {
    secrets: ['iks'],
    pods: { pilot: [pod('istio-pilot-1', { labels: labelsOf('istio=pilot'), ip: '10.1.0.57' })] },
  });
  return { ...judgeStatus([primary, snapshot('iks', 'remote')], target), ms: 1 };
}

describe('status history: kept, compared, with the VPN runs in between', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = uniquePrefix('timeline');
  const t = Date.UTC(2026, 11, 3, 12);
  const history = historyStore({
    redis,
    prefix,
    config: { history: { maxEntries: 100, maxAge: 7 * 1440 * MIN } },
    now: () => t,
  });
  after(async () => {
    await dropPrefix(prefix);
    redis.disconnect();
  });

  it('the first run is kept with nothing to compare; the next names the VPN pair that started failing since', async () => {
    await history.record('vpn', t - 120 * MIN, pair('ok'));
    assert.equal(await statusHistory(history, mesh(), t - 60 * MIN), undefined);
    await history.record('vpn', t - 30 * MIN, pair('lost'));
    const changes = await statusHistory(history, mesh(), t);
    assert.deepEqual(changes?.vpn, { at: t - 30 * MIN, newlyFailing: ['iks>icp/pilot'], recovered: [] });
    assert.equal(changes?.previousAt, t - 60 * MIN);
    assert.equal((await history.since('status', 0)).length, 2);
  });

  it('one cluster asked about is compared, not kept', async () => {
    const changes = await statusHistory(history, mesh('iks'), t + MIN);
    assert.equal(changes?.previousAt, t);
    assert.equal((await history.since('status', 0)).length, 2);
  });
});
