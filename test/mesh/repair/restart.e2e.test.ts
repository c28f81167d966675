import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../helpers/wait.ts';
import { ALICE, appDeployment, startWorld, text, type World } from './world.ts';

type Obj = {
  metadata: { name: string; generation?: number; ownerReferences?: { name: string }[] };
  spec: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
  };
};

/** A Deployment whose rollout is complete, read straight from the simulated cluster's store. */
function settled(d: Obj): boolean {
  const s = d.status ?? {};
  const want = d.spec.replicas ?? 1;
  return (
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) &&
    s.updatedReplicas === want &&
    s.replicas === want &&
    s.readyReplicas === want
  );
}

describe('the restart step after a repair', () => {
  let w: World;
  before(async () => {
    w = await startWorld('repair-restart');
  });
  after(() => w.close());

  it('restarts only the Deployments whose pods hold old addresses, one at a time, each ready before the next', async () => {
    const iks = w.kube('iks');
    // Two more injected workloads, created while pilot still runs at its first address.
    await iks.apps.createNamespacedDeployment({
      namespace: 'default',
      body: appDeployment('details-v2', 'details'),
    });
    await iks.apps.createNamespacedDeployment({
      namespace: 'default',
      body: appDeployment('productpage-v2', 'productpage', 2),
    });
    await w.sim.settled();
    const [moved] = await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const newIp = moved!.after!.ip!;

    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0ROLL' });
    const repair = await w.approval('C0ROLL');
    assert.match(text(repair.message), /4 injected pods on iks keep the old addresses until restarted/);
    await w.approve('C0ROLL', repair);
    await w.reply('C0ROLL', repair.ts, /iks after the repair/, 30_000);
    // Created after the repair: injected with the live address, so it needs no restart.
    await iks.apps.createNamespacedDeployment({
      namespace: 'default',
      body: appDeployment('reviews-v4', 'reviews'),
    });
    await w.sim.settled();
    const podsBefore = new Map(
      (await iks.core.listNamespacedPod({ namespace: 'default' })).items.map((p) => [p.metadata!.name!, p]),
    );

    const restart = await w.approval('C0ROLL', 2);
    const plan = text(restart.message);
    for (const d of ['details-v2', 'productpage-v2', 'reviews-v3'])
      assert.ok(plan.includes(`--- live Deployment default/${d} on iks`), `${d} is in the plan`);
    for (const d of ['reviews-v4', 'vpn-strongswan'])
      assert.ok(!plan.includes(`Deployment default/${d}`), `${d} is not in the plan`);

    // Every restart patch must find the Deployments restarted before it rolled out completely.
    const state = w.sim.clusters.get('iks')!.state;
    const patches: { deployment: string; othersSettled: boolean }[] = [];
    const onRequest = (message: unknown) => {
      const { request } = message as { request: { method: string; path: string } };
      const m = /^\/apis\/apps\/v1\/namespaces\/default\/deployments\/([^/?]+)/.exec(request.path);
      if (request.method !== 'PATCH' || !m) return;
      const deployments = state.list('deployments', 'default', 'apps') as unknown as Obj[];
      patches.push({ deployment: m[1]!, othersSettled: deployments.every(settled) });
    };
    subscribe('undici:request:create', onRequest);
    try {
      await w.approve('C0ROLL', restart);
      await waitFor(
        'the restart applied',
        () => /Applied\* at/.test(w.message('C0ROLL', restart.ts).text),
        30_000,
      );
    } finally {
      unsubscribe('undici:request:create', onRequest);
    }
    assert.deepEqual(patches, [
      { deployment: 'details-v2', othersSettled: true },
      { deployment: 'productpage-v2', othersSettled: true },
      { deployment: 'reviews-v3', othersSettled: true },
    ]);

    const podsAfter = (await iks.core.listNamespacedPod({ namespace: 'default' })).items;
    for (const p of podsAfter) {
      const name = p.metadata!.name!;
      const proxy = p.spec!.containers.find((c) => c.name === 'istio-proxy');
      const untouched = /^(reviews-v4|vpn-strongswan)-/.test(name);
      assert.equal(podsBefore.has(name), untouched, `${name} ${untouched ? 'kept' : 'replaced'}`);
      if (proxy) assert.ok(proxy.args!.includes(`${newIp}:15007`), `${name} points at the live pilot`);
    }
    assert.equal(podsAfter.filter((p) => p.metadata!.name!.startsWith('productpage-v2-')).length, 2);
    const progress = await w.reply('C0ROLL', restart.ts, /Rolling restart on iks: 3 of 3 Deployments ready/);
    assert.match(
      text(progress),
      /`default\/details-v2` ready.*`default\/productpage-v2` ready.*`default\/reviews-v3` ready/,
    );
    await w.reply('C0ROLL', restart.ts, /iks after the restart\*: healthy/, 30_000);
  });
});

describe('a restart whose new pods do not become ready', () => {
  let w: World;
  before(async () => {
    // A short job: the rolling restart may use three quarters of it before it gives up.
    w = await startWorld('repair-stuck', { jobTimeout: '6s' });
  });
  after(() => w.close());

  it('stops there: the next Deployment is not touched and the old pods keep serving', async () => {
    const iks = w.kube('iks');
    await iks.apps.createNamespacedDeployment({
      namespace: 'default',
      body: appDeployment('details-v2', 'details'),
    });
    await w.sim.settled();
    await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0STUCK' });
    const repair = await w.approval('C0STUCK');
    await w.approve('C0STUCK', repair);
    await w.reply('C0STUCK', repair.ts, /iks after the repair/, 30_000);
    const restart = await w.approval('C0STUCK', 2);
    const before = (await iks.core.listNamespacedPod({ namespace: 'default' })).items.map(
      (p) => p.metadata!.name!,
    );

    // Every new details-v2 pod fails its readiness probe the moment it would become ready.
    const state = w.sim.clusters.get('iks')!.state;
    let armed = true;
    state.store.onChange((event) => {
      const pod = event.object as unknown as {
        metadata: { name: string; labels?: Record<string, string> };
        status?: { conditions?: { type: string; status: string }[] };
      };
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (!armed || event.key !== 'pods' || event.type === 'DELETED' || !ready) return;
      if (pod.metadata.labels?.app !== 'details' || before.includes(pod.metadata.name)) return;
      w.sim.faults.setContainerReady('iks', 'default', pod.metadata.name, false, { container: 'details' });
    });
    try {
      await w.approve('C0STUCK', restart);
      await waitFor(
        'the restart to fail',
        () => /Failed\*/.test(w.message('C0STUCK', restart.ts).text),
        30_000,
      );
    } finally {
      armed = false;
    }
    assert.match(
      w.message('C0STUCK', restart.ts).text,
      /Deployment default\/details-v2 did not become ready \(1 old pod still running\); meshops stopped there/,
    );
    const after = (await iks.core.listNamespacedPod({ namespace: 'default' })).items.map(
      (p) => p.metadata!.name!,
    );
    for (const name of before) assert.ok(after.includes(name), `${name} still runs`);
    const progress = await w.reply('C0STUCK', restart.ts, /Rolling restart on iks: 0 of 2 Deployments ready/);
    assert.match(text(progress), /`default\/details-v2` not-ready: 1 old pod still running/);
    assert.match(text(progress), /`default\/reviews-v3` skipped/);
    await w.reply('C0STUCK', restart.ts, /iks after the restart\*: still degraded/, 30_000);
  });
});
