import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeStatus } from '../../../src/mesh/istio/check.ts';
import type { WorkloadFacts } from '../../../src/mesh/istio/facts.ts';
import { snapshot } from './snapshots.ts';

const stuck: WorkloadFacts = {
  kind: 'Deployment',
  namespace: 'default',
  name: 'details-v1',
  desired: 2,
  available: 0,
  created: 0,
};
const injectorService = {
  name: 'istio-sidecar-injector',
  type: 'ClusterIP',
  selector: { istio: 'sidecar-injector' },
  addresses: ['10.0.0.9'],
  external: [],
};

describe('workload findings', () => {
  it('0 of 2 with no pods points at an injector Service that selects no ready pod', () => {
    const icp = snapshot('icp', 'primary', {
      controllers: [stuck],
      services: [{ ...injectorService, selector: { istio: 'sidecar-injector-old' } }],
    });
    const f = judgeStatus([icp]).findings.find((x) => x.area === 'workload');
    assert.equal(
      f?.text,
      'icp: Deployment default/details-v1 0 of 2 available, no pods created — the sidecar injector webhook is fail-closed and the Service istio-sidecar-injector selects no ready pod',
    );
  });

  it('with the injector serving, the same Deployment is blamed on nothing but itself', () => {
    const icp = snapshot('icp', 'primary', { controllers: [stuck], services: [injectorService] });
    const f = judgeStatus([icp]).findings.find((x) => x.area === 'workload');
    assert.equal(f?.text, 'icp: Deployment default/details-v1 0 of 2 available, no pods created');
    assert.equal(f?.severity, 'warning');
  });

  it('a DaemonSet short of one node is a warning, its pods created', () => {
    const ds = (namespace: string): WorkloadFacts => ({
      kind: 'DaemonSet',
      namespace,
      name: 'node-agent',
      desired: 3,
      available: 2,
      created: 3,
    });
    const icp = snapshot('icp', 'primary', { controllers: [ds('default')], services: [injectorService] });
    const f = judgeStatus([icp]).findings.find((x) => x.area === 'workload');
    assert.equal(f?.severity, 'warning');
    assert.equal(f?.text, 'icp: DaemonSet default/node-agent 2 of 3 available');
  });
});
