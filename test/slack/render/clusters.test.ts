import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderClusters } from '../../../src/slack/render/clusters.ts';

test('a mesh configured with one cluster: "icp answers", not "all 1 clusters answer"', () => {
  const one = renderClusters([{ name: 'icp', role: 'primary', ok: true, version: 'v1.32.0', ms: 12 }]);
  assert.equal(one.summary, 'icp answers');
  const two = renderClusters([
    { name: 'icp', role: 'primary', ok: true, version: 'v1.32.0', ms: 12 },
    { name: 'iks', role: 'remote', ok: true, version: 'v1.32.0', ms: 14 },
  ]);
  assert.equal(two.summary, 'all 2 clusters answer');
});
