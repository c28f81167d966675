// Automatic reverts on a real Prometheus, checked on the primary's objects under the shipped RBAC: a change
// that created the VirtualService is reverted by deleting it, one that deleted it by re-creating it; and a
// chart Slack refuses neither holds up the revert nor loses the verification's text.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Fault } from '../../../../src/console/slack-api.ts';
import { waitFor } from '../../../helpers/wait.ts';
import { auditEntry, blocksText, presetSpec, type World } from '../world.ts';
import {
  chartIn,
  inThread,
  requestAndApprove,
  skipWithoutPrometheus as skip,
  startPromWorld,
  thread,
} from './prom-world.ts';

describe('automatic reverts of created and deleted objects, and charts Slack refuses', { skip }, () => {
  let world: Awaited<ReturnType<typeof startPromWorld>>;
  let w: World;
  before(async () => {
    world = await startPromWorld('route-verify-objects', {
      verify: { window: '6s', interval: '2s', minRequests: 5 },
    });
    w = world.w;
  });
  after(() => world.close());
  afterEach(() => {
    w.sim.setTraffic('reviews', 'v3', {});
  });

  it('deletes the VirtualService a breaching change created', async () => {
    await w.deleteVs('icp', 'reviews');
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
    const { ts, id } = await requestAndApprove(w, 'C0VCREATED');
    await auditEntry(w, { action: 'applied', request: id });
    const reverted = await auditEntry(w, { action: 'reverted', request: id });
    assert.match(reverted.result, /reviews v3: 5xx/);
    assert.match(reverted.result, /default\/reviews: deleted again \(it did not exist before the change\)/);
    assert.equal(await w.vs('icp', 'reviews'), undefined);
    await inThread(w, 'C0VCREATED', ts, 'deleted again');
    await waitFor('the chart in the thread', () => chartIn(w, 'C0VCREATED', ts));
  });

  it('re-creates the VirtualService a breaching change deleted', async () => {
    // Healthy v1 only: created by all-v1 (the VirtualService is absent after the test above) and kept.
    assert.equal(await w.vs('icp', 'reviews'), undefined);
    const created = await requestAndApprove(w, 'C0VMADE', 'route apply all-v1');
    await auditEntry(w, { action: 'verified', request: created.id });
    await waitFor('the chart in the thread', () => chartIn(w, 'C0VMADE', created.ts));
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    // The rollback of that creation deletes it: traffic spreads over every reviews pod, v3 among them.
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
    const { ts, id } = await requestAndApprove(w, 'C0VDELETED', 'route rollback');
    await auditEntry(w, { action: 'applied', request: id });
    const reverted = await auditEntry(w, { action: 'reverted', request: id });
    assert.match(reverted.result, /5xx \d+\.\d % > 5\.0 %/);
    assert.match(reverted.result, /default\/reviews: re-created \(resourceVersion \d+\)/);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    await inThread(w, 'C0VDELETED', ts, 're-created');
    await waitFor('the chart in the thread', () => chartIn(w, 'C0VDELETED', ts));
  });

  const refusals: { name: string; faults: Fault[]; says: RegExp }[] = [
    {
      name: 'an error on files.getUploadURLExternal',
      faults: [{ method: 'files.getUploadURLExternal', error: 'missing_scope' }],
      says: /files\.getUploadURLExternal failed: missing_scope/,
    },
    {
      name: 'an error on files.completeUploadExternal',
      faults: [{ method: 'files.completeUploadExternal', error: 'internal_error' }],
      says: /files\.completeUploadExternal failed: internal_error/,
    },
    {
      // The poster waits out Retry-After and tries five more times; Slack keeps refusing.
      name: '429s with Retry-After on every try',
      faults: [{ method: 'files.getUploadURLExternal', status: 429, retryAfter: 1, times: 6 }],
      says: /rate.?limit/i,
    },
  ];
  for (const refusal of refusals) {
    it(`reverts and keeps the verification's text when Slack answers the chart upload with ${refusal.name}`, async () => {
      assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
      for (const f of refusal.faults) w.h.slack.fault(f);
      w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
      const channel = `C0VCHART${refusals.indexOf(refusal)}`;
      const { ts, id } = await requestAndApprove(w, channel);
      await auditEntry(w, { action: 'reverted', request: id });
      assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
      const reply = await inThread(w, channel, ts, 'meshops reverted');
      assert.match(blocksText(reply), /5xx \d+\.\d %/);
      const progress = await inThread(w, channel, ts, 'The chart could not be attached');
      assert.match(blocksText(progress), /Verification of .*reviews-v3.*reverted: reviews v3: 5xx/);
      assert.match(blocksText(progress), refusal.says);
      assert.equal(chartIn(w, channel, ts), undefined);
      // Exactly one verification message: the note is an edit of it, not one more message.
      assert.equal(thread(w, channel, ts).filter((m) => blocksText(m).includes('Verif')).length, 1);
    });
  }

  it("waits out a chart upload's 429 for its Retry-After and attaches the chart", async () => {
    w.h.slack.fault({ method: 'files.completeUploadExternal', status: 429, retryAfter: 1 });
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
    const { ts, id } = await requestAndApprove(w, 'C0VCHART429');
    await auditEntry(w, { action: 'reverted', request: id });
    const chart = await waitFor('the chart in the thread', () => chartIn(w, 'C0VCHART429', ts));
    assert.ok(chart.files?.length);
    const tries = w.h.slack.calls.filter(
      (c) => c.method === 'files.completeUploadExternal' && c.args.channel_id === 'C0VCHART429',
    );
    assert.equal(tries.length, 2);
    assert.ok(tries[1]!.at - tries[0]!.at >= 1000, 'the second try waits for Retry-After');
    assert.ok(!thread(w, 'C0VCHART429', ts).some((m) => blocksText(m).includes('could not be attached')));
  });
});
