import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type StatusSim, startStatusSim } from './sim.ts';

describe('/mesh status with the modern profile (istiod + east-west gateway on icp, istiod Service on iks)', () => {
  let sim: StatusSim;
  before(async () => {
    sim = await startStatusSim({ scenario: 'modern', extraConfig: 'istio:\n  profile: modern\n' });
  });
  afterEach(() => sim.mesh.faults.reset());
  after(() => sim.close());

  const iks = () => sim.admin.get('iks')!;

  it('healthy: istiod and the gateway on the primary, the istiod endpoints on the remote at the gateway', async () => {
    const r = await sim.check();
    assert.equal(r.health, 'healthy', JSON.stringify(r.findings));
    const [icp, remote] = r.clusters;
    assert.deepEqual(
      icp?.components.map((c) => `${c.name} ${c.health} ${c.selector}`),
      ['istiod ok app=istiod', 'eastwestgateway ok istio=eastwestgateway'],
    );
    assert.deepEqual(icp?.remoteSecrets, [
      {
        remote: 'iks',
        looked: ['istio-remote-secret-iks'],
        configured: true,
        secret: 'istio-remote-secret-iks',
      },
    ]);
    assert.equal(remote?.profile, 'modern');
    assert.deepEqual(remote?.components, [], 'a modern remote runs no istiod pod');
    assert.deepEqual(remote?.drift, []);
  });

  it('the remote’s istiod Endpoints (Istio 1.24) pointing elsewhere than the east-west gateway is drift', async () => {
    const ep = await iks().core.readNamespacedEndpoints({ name: 'istiod', namespace: 'istio-system' });
    await iks().core.replaceNamespacedEndpoints({
      name: 'istiod',
      namespace: 'istio-system',
      body: { ...ep, subsets: [{ ...ep.subsets![0], addresses: [{ ip: '198.51.100.99' }] }] },
    });
    const r = await sim.check();
    assert.equal(r.health, 'degraded');
    const f = r.findings.find((x) => x.id === 'iks/drift/istiod');
    assert.equal(
      f?.text,
      'iks: the istiod endpoints point at istiod 198.51.100.99, the east-west gateway on icp is at 198.51.100.50 (drift) — proxies get no configuration and no certificate renewals from istiod',
    );
    assert.match(
      f?.action ?? '',
      /re-install the remote profile on iks with global\.remotePilotAddress=198\.51\.100\.50/,
    );
    assert.deepEqual(
      r.clusters[1]?.drift?.map((d) => [d.object, d.configured, d.suggested]),
      [['Endpoints istio-system/istiod', '198.51.100.99', '198.51.100.50']],
    );
  });

  it('no istiod Service on the remote is a failure; istiod missing on the primary is down', async () => {
    await iks().core.deleteNamespacedService({ name: 'istiod', namespace: 'istio-system' });
    await sim.mesh.faults.scaleDeployment('icp', 'istio-system', 'istiod', 0);
    const r = await sim.check();
    assert.equal(r.health, 'down');
    assert.deepEqual(r.top, ['icp/component/istiod', 'iks/control-plane-config/istiod']);
    assert.match(
      r.findings.find((x) => x.id === 'iks/control-plane-config/istiod')?.text ?? '',
      /^iks: Service istio-system\/istiod missing — proxies on iks cannot reach istiod on icp$/,
    );
  });
});
