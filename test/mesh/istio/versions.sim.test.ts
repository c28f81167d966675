import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { minorOf } from '../../../src/mesh/istio/version-tag.ts';
import { type StatusSim, startStatusSim } from './sim.ts';

describe('versions in /mesh status', () => {
  let sim: StatusSim;
  before(async () => {
    sim = await startStatusSim({ extraConfig: 'checks:\n  clusterTimeout: 2s\n' });
  });
  afterEach(() => sim.mesh.faults.reset());
  after(() => sim.close());

  it('the seed runs 1.0.2 everywhere: tags per component and per cluster, no finding', async () => {
    const r = await sim.check();
    const icp = r.clusters.find((c) => c.name === 'icp')!;
    assert.deepEqual(icp.versions?.controlPlane.find((c) => c.component === 'pilot')?.tags, ['1.0.2']);
    assert.deepEqual(
      icp.versions?.proxies.map((p) => p.tag),
      ['1.0.2'],
    );
    assert.deepEqual(
      r.findings.filter((f) => f.area === 'version'),
      [],
    );
  });

  it('a sidecar two minors behind, or ahead of pilot, is a finding naming a pod', async () => {
    sim.mesh.faults.setProxyImage(
      'iks',
      'default',
      { labelSelector: 'app=reviews' },
      'docker.io/istio/proxyv2:1.2.5',
    );
    const r = await sim.check();
    const f = r.findings.find((x) => x.id === 'iks/version/proxies');
    assert.equal(f?.severity, 'warning');
    assert.match(f?.text ?? '', /1\.2\.5 \(ahead of pilot 1\.0\.2; e\.g\. reviews-v3-/);
    sim.mesh.faults.setProxyImage(
      'iks',
      'default',
      { labelSelector: 'app=reviews' },
      'docker.io/istio/proxyv2:1.0.6',
    );
    const patch = await sim.check();
    assert.equal(
      patch.findings.find((x) => x.id === 'iks/version/proxies'),
      undefined,
      'patch skew is fine',
    );
  });

  it('a remote whose citadel comes from another release', async () => {
    sim.mesh.faults.imagePullBackOff(
      'iks',
      'istio-system',
      { labelSelector: 'istio=citadel' },
      { image: 'docker.io/istio/citadel:1.1.0' },
    );
    const r = await sim.check();
    assert.match(r.findings.find((x) => x.id === 'iks/version/chart')?.text ?? '', /citadel 1\.1\.0/);
  });

  it('reads versions from tags, not from anything else', () => {
    assert.deepEqual(minorOf('1.0.2'), [1, 0]);
    assert.deepEqual(minorOf('v1.24.2-distroless'), [1, 24]);
    assert.equal(minorOf('latest'), undefined);
  });
});
