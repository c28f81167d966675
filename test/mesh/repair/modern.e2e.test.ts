import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../helpers/wait.ts';
import { ALICE, startWorld, text, type World } from './world.ts';

/** Modern primary-remote: iks reaches istiod through icp's east-west gateway, via its `istiod` EndpointSlice. */
describe('/mesh repair drift on the modern topology', () => {
  let w: World;
  before(async () => {
    w = await startWorld('repair-modern', { scenario: 'modern', extra: 'istio:\n  profile: modern\n' });
  });
  after(() => w.close());

  const slice = async () =>
    (
      await w.kube('iks').discovery.listNamespacedEndpointSlice({
        namespace: 'istio-system',
        labelSelector: 'kubernetes.io/service-name=istiod',
      })
    ).items[0]!;

  it('re-points the istiod EndpointSlice at the east-west gateway, behind approval, and verifies', async () => {
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0MODERNOK' });
    const clean = await w.h.waitForVerdict('C0MODERNOK', '/mesh repair drift iks', 30_000);
    assert.match(clean.text, /iks: nothing to repair/);

    const stale = await slice();
    await w.kube('iks').discovery.replaceNamespacedEndpointSlice({
      name: stale.metadata!.name!,
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
    assert.doesNotMatch(text(verified), /still holding old addresses/);
    assert.equal(w.approvals('C0MODERN').length, 1, 'no restart step: modern proxies resolve istiod by name');
  });
});
