import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { proxyState } from '../../../src/mesh/istio/syncz.ts';
import { runProxiesCheck } from '../../../src/mesh/proxies/check.ts';
import type { ProxiesReport } from '../../../src/mesh/proxies/report.ts';
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
    // Envoy's reconnect backoff as an event the test controls: the proxies that reconnect wait for it.
    sim.mesh.controlPlane.holdReconnects();
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
    // icp's own proxies are connected to the new pilot and wait for its first push: NOT SENT, never STALE.
    assert.ok(states(r, 'icp').length > 0);
    assert.ok(
      states(r, 'icp').every((s) => s.endsWith(' not-sent')),
      states(r, 'icp').join(),
    );
    assert.ok(r.findings.some((x) => x.id === 'icp/proxies/not-sent'));
    sim.mesh.controlPlane.releaseReconnects();
    const after = await check();
    assert.ok(
      states(after, 'icp').every((s) => s.endsWith(' synced')),
      states(after, 'icp').join(),
    );
    assert.equal(after.counts.notSent, 0);
  });

  it('a cluster whose pods cannot be listed: its sidecars are not compared, said with the API server’s answer', async () => {
    sim.mesh.faults.setUnavailable('iks', true);
    const r = await check();
    const f = r.findings.find((x) => x.id === 'iks/proxies/pods');
    assert.match(f?.text ?? '', /^iks: sidecars not compared with pilot's list — 503 from the API server/);
    assert.equal(r.clusters.find((c) => c.name === 'iks')?.unknown.length, 0);
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
