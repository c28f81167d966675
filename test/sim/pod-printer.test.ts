import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { podWideCells } from '../../src/sim/api/pod-printer.ts';

// READY/STATUS/RESTARTS/AGE (kubectl's printPod) are shared with meshops: test/kube/pod-status.test.ts.

describe('podWideCells (kubectl get pods -o wide)', () => {
  it('shows IP, node, nominated node and readiness gates, <none> when absent', () => {
    assert.deepEqual(podWideCells({ metadata: { name: 'p' } }), ['<none>', '<none>', '<none>', '<none>']);
    assert.deepEqual(
      podWideCells({
        metadata: { name: 'p' },
        spec: { nodeName: 'node-1', readinessGates: [{ conditionType: 'a' }, { conditionType: 'b' }] },
        status: {
          podIP: '10.0.0.9',
          podIPs: [{ ip: '10.0.0.7' }],
          nominatedNodeName: 'node-2',
          conditions: [
            { type: 'a', status: 'True' },
            { type: 'b', status: 'False' },
          ],
        },
      }),
      ['10.0.0.7', 'node-1', 'node-2', '1/2'],
    );
  });
});
