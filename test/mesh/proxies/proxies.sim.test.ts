import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { proxyState } from '../../../src/mesh/istio/syncz.ts';
import { runProxiesCheck } from '../../../src/mesh/proxies/check.ts';
import type { ProxiesReport } from '../../../src/mesh/proxies/report.ts';
import { waitFor } from '../../helpers/wait.ts';
import { type StatusSim, startStatusSim } from '../istio/sim.ts';

const states = (r: ProxiesReport, cluster: string) =>
  r.clusters
    .find((c) => c.name === cluster)!
    .proxies.map((p) => `${p.pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, '')} ${proxyState(p)}`)
    .sort();

describe('/mesh proxies against the simulated seed mesh', () => {
  let sim: StatusSim;
  const check = (cluster?: string) =>
    runProxiesCheck({ config: sim.config, clusters: sim.clusters }, cluster ? { cluster } : {});
  before(async () => {
    sim = await startStatusSim({ extraConfig: 'checks:\n  clusterTimeout: 2s\n' });
  });
  afterEach(() => sim.mesh.faults.reset());
  after(() => sim.close());

  it('healthy: every sidecar and gateway of both clusters is SYNCED with pilot', async () => {
    const r = await check();
    assert.equal(r.health, 'healthy', JSON.stringify(r.findings));
    assert.equal(r.pilots.length, 1);
    assert.deepEqual(states(r, 'iks'), ['reviews-v3 synced']);
    assert.ok(states(r, 'icp').includes('productpage-v1 synced'));
    assert.ok(states(r, 'icp').includes('istio-ingressgateway synced'));
    assert.equal(r.counts.unknown, 0);
    assert.match(r.summary, /^\d+\/\d+ proxies in sync$/);
  });

  it('a tunnel down leaves the remote proxy STALE: pushes go out, no acknowledgement comes back', async () => {
    sim.mesh.faults.setTunnel('icp', 'iks', 'down');
    const r = await check();
    assert.deepEqual(states(r, 'iks'), ['reviews-v3 stale']);
    assert.equal(r.health, 'degraded');
    assert.ok(r.findings.some((f) => f.id === 'iks/proxies/stale'));
  });

  it('after a pilot restart: the remote proxy dials the old address and is named as unknown to pilot', async () => {
    await sim.mesh.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const r = await check();
    const iks = r.clusters.find((c) => c.name === 'iks')!;
    assert.deepEqual(iks.proxies, []);
    assert.deepEqual(
      iks.unknown.map((u) => u.namespace),
      ['default'],
    );
    const f = r.findings.find((x) => x.id === 'iks/proxies/unknown');
    assert.ok(f);
    assert.match(f.text, /reviews-v3-/);
    // icp's own proxies reconnect to the new pilot within the sim's second (the NOT SENT window itself is shown
    // deterministically below), never STALE, and end SYNCED.
    assert.ok(
      states(r, 'icp').every((s) => s.endsWith('not-sent') || s.endsWith('synced')),
      states(r, 'icp').join(),
    );
    await waitFor('icp proxies synced with the new pilot', async () =>
      (await check()).clusters[0]!.proxies.every((p) => proxyState(p) === 'synced'),
    );
  });

  it('one cluster: only its proxies are reported, placed from every cluster', async () => {
    const r = await check('iks');
    assert.deepEqual(
      r.clusters.map((c) => c.name),
      ['iks'],
    );
    assert.deepEqual(r.elsewhere, []);
    assert.equal(r.counts.total, 1);
  });

  it('Istio 1.0 with one pilot: read through the service proxy, so no exec is needed', async () => {
    sim.mesh.faults.forbidExec('icp', 'istio-system');
    const r = await check();
    assert.equal(r.health, 'healthy', JSON.stringify(r.findings));
    assert.ok(r.counts.synced > 0);
  });

  it('two pilot replicas: each is asked by exec; refused, it is not checked, with the grant to add', async () => {
    await sim.mesh.faults.scaleDeployment('icp', 'istio-system', 'istio-pilot', 2);
    await sim.mesh.settled();
    const both = await check();
    assert.equal(both.pilots.length, 2);
    assert.ok(both.pilots.every((p) => p.ok));
    sim.mesh.faults.forbidExec('icp', 'istio-system');
    const r = await check();
    const f = r.findings.find((x) => x.id === 'icp/proxies/syncz');
    assert.ok(f);
    assert.match(f.action ?? '', /pods\/exec/);
    assert.equal(r.counts.unknown, 0, 'nobody is called unknown without a list');
  });
});

describe('/mesh status carries the proxy line (one exec per pilot pod, not one call per proxy)', () => {
  let sim: StatusSim;
  before(async () => {
    sim = await startStatusSim({ extraConfig: 'checks:\n  clusterTimeout: 2s\n' });
  });
  afterEach(() => sim.mesh.faults.reset());
  after(() => sim.close());

  it('healthy: every proxy in sync, no finding', async () => {
    const r = await sim.check();
    assert.equal(r.health, 'healthy');
    assert.match(r.proxies?.summary ?? '', /^(\d+)\/\1 proxies in sync$/);
  });

  it('after a pilot restart the remote sidecar that lost pilot is a finding explained by the drift', async () => {
    await sim.mesh.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const r = await sim.check();
    assert.match(r.proxies?.summary ?? '', /1 not connected to pilot/);
    const unknown = r.findings.find((f) => f.id === 'iks/proxies/unknown');
    assert.equal(unknown?.causedBy, 'iks/drift/pilot');
  });

  it('the remote alone: its own proxies only', async () => {
    const r = await sim.check('iks');
    assert.equal(r.proxies?.counts.total, 1);
  });
});

describe('/mesh proxies on modern istiod (exec: its debug port refuses proxied callers)', () => {
  let sim: StatusSim;
  before(async () => {
    sim = await startStatusSim({ scenario: 'modern', extraConfig: 'checks:\n  clusterTimeout: 2s\n' });
  });
  after(() => sim.close());

  it('every proxy placed by the cluster istiod names, all SYNCED', async () => {
    const proxiedPath = '/api/v1/namespaces/istio-system/services/istiod:15014/proxy/debug/syncz';
    // Even an administrator the API server lets through is refused by istiod (401 to proxied callers since
    // 1.11); meshops has no services/proxy grant on istiod at all, and the check reads syncz by exec.
    assert.equal((await sim.admin.get('icp')!.get(proxiedPath)).status, 401);
    const r = await runProxiesCheck({ config: sim.config, clusters: sim.clusters });
    assert.equal(r.health, 'healthy', JSON.stringify(r.findings));
    assert.deepEqual(states(r, 'iks'), ['reviews-v3 synced']);
    assert.ok(r.clusters.every((c) => c.proxies.every((p) => p.clusterId === c.name)));
  });
});

describe('/mesh proxies right after a pilot restart, while proxies are still reconnecting', () => {
  let sim: StatusSim;
  before(async () => {
    // Reconnecting takes ten minutes here, so every check in this test falls inside the window.
    sim = await startStatusSim({ extraConfig: 'checks:\n  clusterTimeout: 2s\n', xdsReconnectMs: 600_000 });
  });
  after(() => sim.close());

  it("shows the primary's proxies NOT SENT until their first push is acknowledged, never STALE", async () => {
    await sim.mesh.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const r = await runProxiesCheck({ config: sim.config, clusters: sim.clusters }, {});
    const icp = states(r, 'icp');
    assert.ok(icp.length > 0);
    assert.deepEqual(
      icp.filter((s) => !s.endsWith('not-sent')),
      [],
      'every proxy of icp is NOT SENT',
    );
  });
});
