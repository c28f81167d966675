import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type StatusSim, startStatusSim } from './sim.ts';

describe('Deployments and DaemonSets in /mesh status', () => {
  let sim: StatusSim;
  before(async () => {
    sim = await startStatusSim({ extraConfig: 'checks:\n  clusterTimeout: 2s\n' });
  });
  afterEach(() => sim.mesh.faults.reset());
  after(() => sim.close());

  it('the seed has every workload at its count: no workload finding', async () => {
    const r = await sim.check();
    assert.deepEqual(
      r.findings.filter((f) => f.area === 'workload' || f.id.endsWith('/not-checked/workloads')),
      [],
    );
  });

  it('with the fail-closed injector down, a restarted Deployment gets no pod and the finding points at the injector', async () => {
    await sim.mesh.faults.scaleDeployment('icp', 'istio-system', 'istio-sidecar-injector', 0);
    await sim.mesh.faults.restartPod('icp', 'default', { labelSelector: 'app=details' });
    const r = await sim.check();
    const f = r.findings.find((x) => x.id === 'icp/workload/default/details-v1');
    assert.equal(f?.severity, 'warning');
    assert.match(f?.text ?? '', /^icp: Deployment default\/details-v1 0 of 1 available, no pods created/);
    assert.match(
      f?.text ?? '',
      /sidecar injector webhook is fail-closed and no sidecar-injector pod is ready/,
    );
    assert.match(
      f?.text ?? '',
      /failed calling webhook "sidecar-injector\.istio\.io".*no endpoints available/,
    );
    assert.equal(f?.causedBy, 'icp/component/sidecar-injector');

    // The injector back: the ReplicaSet's retry creates the pod and the finding clears.
    await sim.mesh.faults.scaleDeployment('icp', 'istio-system', 'istio-sidecar-injector', 1);
    const healed = await sim.check();
    assert.equal(
      healed.findings.find((x) => x.id === 'icp/workload/default/details-v1'),
      undefined,
    );
  });

  it('a Deployment short of replicas outside an injector outage says so without blaming the injector', async () => {
    sim.mesh.faults.imagePullBackOff(
      'iks',
      'default',
      { labelSelector: 'app=reviews' },
      { image: 'istio/examples-bookinfo-reviews-v3:nope' },
    );
    const r = await sim.check('iks');
    const f = r.findings.find((x) => x.area === 'workload' && x.cluster === 'iks');
    assert.ok(f, JSON.stringify(r.findings.map((x) => x.id)));
    assert.doesNotMatch(f.text, /injector/);
    assert.match(f.action ?? '', /kubectl -n default describe deployment /);
  });
});
