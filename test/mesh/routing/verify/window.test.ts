// After an approved routing change, meshops watches the traffic it moved on a real Prometheus (scraping
// the simulated mesh's telemetry, read through the primary's API server proxy) and reverts it on a breach.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { type RunningPrometheus, startPrometheus } from '../../../helpers/prometheus.ts';
import { waitFor } from '../../../helpers/wait.ts';
import { ALICE, auditEntry, BOB, blocksText, presetSpec, startWorld, type World } from '../world.ts';
import {
  requestAndApprove as applyAndApprove,
  chartIn,
  scraped,
  skipWithoutPrometheus as skip,
  thread,
} from './prom-world.ts';

describe('routing verification on a real Prometheus', { skip }, () => {
  let w: World;
  let prom: RunningPrometheus;
  before(async () => {
    const world = await startWorld('route-verify', {
      verify: { window: '6s', interval: '2s', minRequests: 5 },
    });
    prom = await startPrometheus({ targets: [world.sim.metrics.target] });
    world.sim.connectService('icp', 'istio-system', 'prometheus', 9090, prom.url);
    w = world;
    await scraped(prom.url);
  });
  after(async () => {
    await w.close();
    await prom.stop();
  });
  beforeEach(async () => {
    await w.sim.faults.reset();
  });
  afterEach(() => {
    w.sim.setTraffic('reviews', 'v3', {});
  });

  it('reverts a change whose new version answers 503 to 30 %, naming requester and approver, with the numbers in the audit', async () => {
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
    const { ts, id } = await applyAndApprove(w, 'C0VBREAK');
    const reverted = await auditEntry(w, { action: 'reverted', request: id });
    assert.match(reverted.result, /reviews v3: 5xx \d+\.\d % > 5\.0 %/);
    assert.match(reverted.result, new RegExp(`requested by ${ALICE}, approved by ${BOB}`));
    // The pre-change state is back on the primary.
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    const reply = await waitFor('the revert in the thread', () =>
      thread(w, 'C0VBREAK', ts).find((m) => blocksText(m).includes('meshops reverted')),
    );
    assert.ok(blocksText(reply).includes(`<@${ALICE}>`) && blocksText(reply).includes(`<@${BOB}>`));
    const chart = await waitFor('the chart in the thread', () => chartIn(w, 'C0VBREAK', ts));
    const png = await fetch(chart.files![0]!.url).then((r) => r.arrayBuffer());
    assert.ok(png.byteLength > 1000);
    // One progress message, edited in place.
    const progress = thread(w, 'C0VBREAK', ts).filter((m) => blocksText(m).includes('erif'));
    const verification = progress.filter((m) => blocksText(m).includes('Verif'));
    assert.equal(verification.length, 1);
    assert.ok(progress.some((m) => m.edited));
    // Per version: request rate, 5xx share and p99, as the reading measured them.
    assert.match(
      blocksText(verification[0]!),
      /reviews` v3 · \d+\.\d req\/s \(\d+ requests\) · 5xx \d+\.\d % · p99 \d+ ms/,
    );
  });

  it('keeps a healthy change for the whole window and posts the chart at the end', async () => {
    const { ts, id } = await applyAndApprove(w, 'C0VGOOD');
    const verified = await auditEntry(w, { action: 'verified', request: id });
    assert.match(verified.result, /within the thresholds/);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-v3'));
    await waitFor('the chart in the thread', () => chartIn(w, 'C0VGOOD', ts));
    assert.ok(!(await w.audit()).some((e) => e.action === 'reverted' && e.request === id));
    // Put the mesh back for the next test.
    await w.editVs('icp', 'reviews', presetSpec('all-v1'));
  });

  it('does not overwrite a VirtualService someone changed since meshops wrote it, and asks in the thread', async () => {
    w.sim.setTraffic('reviews', 'v3', { addedLatencyMs: 400 });
    const { ts, id } = await applyAndApprove(w, 'C0VEDIT');
    await auditEntry(w, { action: 'applied', request: id });
    const mine = presetSpec('reviews-50-v3');
    await w.editVs('icp', 'reviews', mine);
    const failed = await waitFor('the blocked revert in the audit', async () =>
      (await w.audit()).find((e) => e.action === 'failed' && e.request === id),
    );
    assert.match(failed.result, /the revert was not written: changed since meshops wrote it/);
    assert.match(failed.result, /p99 .* > 2×/);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, mine);
    await waitFor('the question in the thread', () =>
      thread(w, 'C0VEDIT', ts).find((m) => blocksText(m).includes('did not overwrite it')),
    );
    await w.editVs('icp', 'reviews', presetSpec('all-v1'));
  });
});

describe('routing verification reading Prometheus at clusters[].prometheus', { skip }, () => {
  let w: World;
  let prom: RunningPrometheus | undefined;
  before(async () => {
    w = await startWorld('route-verify-url', {
      verify: { window: '6s', interval: '2s', minRequests: 5 },
      // No Service proxy to Prometheus on the primary: only the configured URL leads to it.
      primaryPrometheus: async (sim) => {
        prom = await startPrometheus({ targets: [sim.metrics.target] });
        return prom.url;
      },
    });
    await scraped(prom!.url);
  });
  after(async () => {
    await w.close();
    await prom?.stop();
  });

  it('reads the URL, not the API server proxy, and reverts a breaching change', async () => {
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
    const { ts, id } = await applyAndApprove(w, 'C0VURL');
    const reverted = await auditEntry(w, { action: 'reverted', request: id });
    assert.match(reverted.result, /reviews v3: 5xx \d+\.\d % > 5\.0 %/);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    await waitFor('the chart in the thread', () => chartIn(w, 'C0VURL', ts));
    assert.deepEqual(
      w.requestsTo('icp').filter((r) => r.includes('/services/prometheus')),
      [],
      'nothing read through the API server proxy',
    );
  });
});

describe('routing verification without a reachable Prometheus', () => {
  let w: World;
  before(async () => {
    w = await startWorld('route-verify-noprom', { verify: { window: '3s', interval: '1s' } });
  });
  after(() => w.close());

  it('says verification could not run and reverts nothing, even with a broken version', async () => {
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.5 });
    const { ts, id } = await applyAndApprove(w, 'C0VNOPROM');
    const verified = await auditEntry(w, { action: 'verified', request: id });
    assert.match(verified.result, /verification could not run/);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-v3'));
    const progress = thread(w, 'C0VNOPROM', ts).find((m) => blocksText(m).includes('could not run'));
    assert.ok(progress, 'the thread says verification could not run');
    assert.match(blocksText(progress), /no endpoints available for service/);
  });
});

describe('routing verification on modern Istio, with revert: propose', { skip }, () => {
  let w: World;
  let prom: RunningPrometheus;
  before(async () => {
    w = await startWorld('route-verify-modern', {
      modern: true,
      verify: { window: '6s', interval: '2s', minRequests: 5, revert: 'propose' },
    });
    prom = await startPrometheus({ targets: [w.sim.metrics.target] });
    w.sim.connectService('icp', 'istio-system', 'prometheus', 9090, prom.url);
    await scraped(prom.url);
  });
  after(async () => {
    await w.close();
    await prom.stop();
  });

  it('judges milliseconds per labelled version, and puts the revert up for approval instead of writing it', async () => {
    w.sim.setTraffic('reviews', 'v3', { addedLatencyMs: 400 });
    const { id } = await applyAndApprove(w, 'C0VMODERN');
    const verdict = await auditEntry(w, { action: 'verified', request: id });
    assert.match(verdict.result, /reviews v3: p99 \d+ ms = [\d.]+× the baseline \d+ ms > 2×/);
    assert.match(verdict.result, /routing\.verify\.revert is propose: a revert was requested/);
    // Nothing written by itself: v3 still routed until someone approves.
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-v3'));
    const proposal = await waitFor('the revert up for approval', () =>
      w.h
        .parents('C0VMODERN')
        .find((m) => blocksText(m).includes('Revert reviews-v3') && blocksText(m).includes('mesh.approve')),
    );
    const revertId = /"action_id":"mesh\.approve","value":"(ap-[0-9a-f]+)"/.exec(blocksText(proposal))![1]!;
    await w.h.click({
      user: BOB,
      channel: 'C0VMODERN',
      messageTs: proposal.ts,
      actionId: 'mesh.approve',
      value: revertId,
    });
    await auditEntry(w, { action: 'applied', request: revertId });
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
  });
});
