import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderCerts } from '../../../src/slack/render/certs.ts';

test('checks.certSample 1 reads "at most 1 proxy sampled"', () => {
  const r = renderCerts({
    checkedAt: '2026-12-03T15:00:00.000Z',
    health: 'healthy',
    cap: 1,
    clusters: [],
    findings: [],
    top: [],
    summary: 'nothing read',
    ms: 10,
  });
  assert.match(JSON.stringify(r.blocks), /At most 1 proxy sampled per cluster/);
});
