import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { modernScenario } from '../../helpers/scenarios.ts';
import { waitFor } from '../../helpers/wait.ts';
import { ALICE, startWorld, text, type World } from './world.ts';

const config = 'istio:\n  profile: modern\n';

/**
 * Modern primary-remote: iks reaches istiod through icp's east-west gateway. The remote chart writes that
 * address into an Endpoints object up to Istio 1.27 and into an EndpointSlice from 1.28: the repair writes
 * the one the remote's version owns, never the other.
 */
describe('/mesh repair drift on the modern topology, Istio 1.24 (Endpoints)', () => {
  let w: World;
  before(async () => {
    w = await startWorld('repair-modern', { scenario: 'modern', extra: config });
  });
  after(() => w.close());

  const endpoints = () =>
    w.kube('iks').core.readNamespacedEndpoints({ name: 'istiod', namespace: 'istio-system' });

  it('re-points the istiod Endpoints at the east-west gateway, behind approval, and verifies', async () => {
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0MODERNOK' });
    const clean = await w.h.waitForVerdict('C0MODERNOK', '/mesh repair drift iks', 30_000);
    assert.match(clean.text, /iks: nothing to repair/);

    const stale = await endpoints();
    await w.kube('iks').core.replaceNamespacedEndpoints({
      name: 'istiod',
      namespace: 'istio-system',
      body: { ...stale, subsets: [{ ...stale.subsets![0], addresses: [{ ip: '198.51.100.99' }] }] },
    });
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0MODERN' });
    const plan = await w.approval('C0MODERN');
    const shown = text(plan.message);
    assert.ok(
      shown.includes(
        '@@ subsets[0].addresses[0].ip · the east-west gateway on icp is at 198.51.100.50: 198.51.100.99 → 198.51.100.50',
      ),
      shown,
    );
    assert.match(shown, /--- live Endpoints istio-system\/istiod on iks \(resourceVersion \d+\)/);
    assert.doesNotMatch(shown, /ConfigMap|EndpointSlice/);

    await w.approve('C0MODERN', plan);
    await waitFor('the repair applied', () => /Applied\* at/.test(w.message('C0MODERN', plan.ts).text));
    const repaired = await endpoints();
    assert.deepEqual(
      repaired.subsets?.map((s) => s.addresses?.map((a) => a.ip)),
      [['198.51.100.50']],
    );
    assert.deepEqual(repaired.subsets?.[0]?.ports, stale.subsets?.[0]?.ports, 'the ports are kept');
    assert.equal(repaired.metadata?.labels?.['helm.sh/chart'], 'istiod-1.24.2', 'the labels are kept');
    const verified = await w.reply('C0MODERN', plan.ts, /iks after the repair/, 30_000);
    assert.match(text(verified), /iks after the repair\*: healthy/);
    assert.equal(w.approvals('C0MODERN').length, 1, 'no restart step: modern proxies resolve istiod by name');
  });
});

describe('/mesh repair drift on the modern topology, Istio 1.28 (EndpointSlice)', () => {
  let w: World;
  before(async () => {
    w = await startWorld('repair-modern-128', { scenario: modernScenario('1.28.0'), extra: config });
  });
  after(() => w.close());

  const slice = () =>
    w.kube('iks').discovery.readNamespacedEndpointSlice({ name: 'istiod', namespace: 'istio-system' });

  it('re-points the istiod EndpointSlice at the east-west gateway, behind approval, and verifies', async () => {
    const stale = await slice();
    assert.equal(stale.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'Helm');
    await w.kube('iks').discovery.replaceNamespacedEndpointSlice({
      name: 'istiod',
      namespace: 'istio-system',
      body: { ...stale, endpoints: [{ addresses: ['198.51.100.99'] }] },
    });
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0MODERN' });
    const plan = await w.approval('C0MODERN');
    const shown = text(plan.message);
    assert.ok(
      shown.includes(
        '@@ endpoints[0].addresses[0] · the east-west gateway on icp is at 198.51.100.50: 198.51.100.99 → 198.51.100.50',
      ),
      shown,
    );
    assert.ok(shown.includes('-  - 198.51.100.99\\n+  - 198.51.100.50'), shown);
    assert.match(shown, /--- live EndpointSlice istio-system\/istiod on iks \(resourceVersion \d+\)/);
    assert.doesNotMatch(shown, /ConfigMap|Endpoints istio-system/);

    await w.approve('C0MODERN', plan);
    await waitFor('the repair applied', () => /Applied\* at/.test(w.message('C0MODERN', plan.ts).text));
    const repaired = await slice();
    assert.deepEqual(
      repaired.endpoints?.map((e) => e.addresses),
      [['198.51.100.50']],
    );
    assert.deepEqual(repaired.ports, stale.ports, 'the ports are kept');
    const verified = await w.reply('C0MODERN', plan.ts, /iks after the repair/, 30_000);
    assert.match(text(verified), /iks after the repair\*: healthy/);
  });
});
