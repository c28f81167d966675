// routing.verify.revert off and propose, end to end on a real Prometheus: what the thread says, what is
// written on the primary (nothing until someone approves), and the audit.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { waitFor } from '../../../helpers/wait.ts';
import { ALICE, auditEntry, BOB, blocksText, presetSpec, type World } from '../world.ts';
import {
  chartIn,
  inThread,
  requestAndApprove,
  skipWithoutPrometheus as skip,
  startPromWorld,
} from './prom-world.ts';

const approvalsIn = (w: World, channel: string) =>
  w.h.parents(channel).filter((m) => blocksText(m).includes('"action_id":"mesh.approve"'));

describe('routing.verify.revert: off', { skip }, () => {
  let world: Awaited<ReturnType<typeof startPromWorld>>;
  let w: World;
  before(async () => {
    world = await startPromWorld('route-verify-off', {
      verify: { window: '6s', interval: '2s', minRequests: 5, revert: 'off' },
    });
    w = world.w;
  });
  after(() => world.close());

  it('reports the breach in the thread, writes nothing and asks nobody to approve anything', async () => {
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
    const { ts, id } = await requestAndApprove(w, 'C0VOFF');
    await auditEntry(w, { action: 'applied', request: id });
    const written = await w.vs('icp', 'reviews');
    assert.deepEqual(written?.spec, presetSpec('reviews-v3'));

    const verdict = await auditEntry(w, { action: 'verified', request: id });
    assert.match(
      verdict.result,
      /^breach \(reviews v3: 5xx \d+\.\d % > 5\.0 %\); routing\.verify\.revert is off \(/,
    );
    assert.match(verdict.result, new RegExp(`requested by ${ALICE}, approved by ${BOB}`));
    const reply = await inThread(w, 'C0VOFF', ts, 'routing.verify.revert is off: nothing was reverted');
    assert.ok(blocksText(reply).includes(`<@${ALICE}>`) && blocksText(reply).includes(`<@${BOB}>`));
    await waitFor('the chart in the thread', () => chartIn(w, 'C0VOFF', ts));

    // Nothing written: the VirtualService is still exactly what the change wrote.
    assert.deepEqual(await w.vs('icp', 'reviews'), written);
    assert.ok(!(await w.audit()).some((e) => e.action === 'reverted' && e.request === id));
    // No approval asked for: no buttons in the channel (the change's own are gone once decided), nothing requested by meshops.
    assert.equal(approvalsIn(w, 'C0VOFF').length, 0);
    assert.ok(!(await w.audit()).some((e) => e.action === 'requested' && e.who === 'meshops'));
    await w.editVs('icp', 'reviews', presetSpec('all-v1'));
  });
});

describe('routing.verify.revert: propose', { skip }, () => {
  let world: Awaited<ReturnType<typeof startPromWorld>>;
  let w: World;
  before(async () => {
    world = await startPromWorld('route-verify-propose', {
      verify: { window: '12s', interval: '3s', minRequests: 5, revert: 'propose' },
    });
    w = world.w;
  });
  after(() => world.close());
  afterEach(async () => {
    w.sim.setTraffic('reviews', 'v3', {});
    await w.editVs('icp', 'reviews', presetSpec('all-v1'));
  });

  it('posts a revert for approval on a breach, and approving it writes the state before the change', async () => {
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
    const { ts, id } = await requestAndApprove(w, 'C0VPROP');
    await auditEntry(w, { action: 'applied', request: id });
    const written = await w.vs('icp', 'reviews');

    const verdict = await auditEntry(w, { action: 'verified', request: id });
    assert.match(
      verdict.result,
      /reviews v3: 5xx .* routing\.verify\.revert is propose: a revert was requested/,
    );
    const reply = await inThread(w, 'C0VPROP', ts, 'a revert is up for approval in this channel');
    assert.ok(blocksText(reply).includes(`<@${ALICE}>`) && blocksText(reply).includes(`<@${BOB}>`));
    const proposal = await waitFor('the revert up for approval', () =>
      approvalsIn(w, 'C0VPROP').find((m) => blocksText(m).includes('Revert reviews-v3')),
    );
    // Its diff puts back what was live before the change.
    assert.match(blocksText(proposal), /v1/);
    // Nothing is written until someone approves.
    assert.deepEqual(await w.vs('icp', 'reviews'), written);

    const revertId = /"action_id":"mesh\.approve","value":"(ap-[0-9a-f]+)"/.exec(blocksText(proposal))![1]!;
    await w.h.click({
      user: BOB,
      channel: 'C0VPROP',
      messageTs: proposal.ts,
      actionId: 'mesh.approve',
      value: revertId,
    });
    const applied = await auditEntry(w, { action: 'applied', request: revertId });
    assert.equal(applied.who, BOB);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    // The revert is a routing change like any other: it gets its own verification window.
    await auditEntry(w, { action: 'verified', request: revertId });
  });

  it('proposes no revert over a VirtualService someone changed since meshops wrote it, and asks in the thread', async () => {
    const { ts, id } = await requestAndApprove(w, 'C0VPEDIT');
    await auditEntry(w, { action: 'applied', request: id });
    const theirs = presetSpec('reviews-50-v3');
    await w.editVs('icp', 'reviews', theirs);
    // v3 breaks only once the edit is made, so the breach is judged after it, however slow the machine.
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });

    const verdict = await auditEntry(w, { action: 'verified', request: id });
    assert.match(
      verdict.result,
      /the revert could not be requested: changed since meshops wrote it: default\/reviews/,
    );
    await inThread(w, 'C0VPEDIT', ts, 'did not overwrite it');
    assert.equal(approvalsIn(w, 'C0VPEDIT').length, 0);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, theirs);
  });

  it('says in the thread when the revert cannot be put up for approval, instead of claiming revert is off', async () => {
    const { ts, id } = await requestAndApprove(w, 'C0VLOCKED');
    await auditEntry(w, { action: 'applied', request: id });
    // Another change to the same VirtualService waits for approval: it holds the VirtualService's lock.
    await w.h.command('route apply reviews-50-v3', { user: ALICE, channel: 'C0VHELD' });
    const held = await w.approval('C0VHELD');
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });

    const verdict = await auditEntry(w, { action: 'verified', request: id });
    assert.match(
      verdict.result,
      /routing\.verify\.revert is propose, but the revert could not be requested: .*locked/,
    );
    const reply = await inThread(w, 'C0VLOCKED', ts, 'the revert could not be put up for approval');
    assert.match(blocksText(reply), /is locked by/);
    assert.ok(!blocksText(reply).includes('revert is off'));
    assert.equal(approvalsIn(w, 'C0VLOCKED').length, 0);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-v3'));
    await w.h.click({
      user: BOB,
      channel: 'C0VHELD',
      messageTs: held.ts,
      actionId: 'mesh.reject',
      value: held.id,
    });
    await auditEntry(w, { action: 'rejected', request: held.id });
  });
});
