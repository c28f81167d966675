// The Deployment controller's arithmetic against the cases kube-controller-manager's own sources spell
// out (pkg/controller/deployment/rolling.go's comment, intstr's rounding, ResolveFenceposts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DeploymentView,
  maxSurge,
  maxUnavailable,
  newReplicaSetSize,
  rollingStep,
  scaledValue,
} from '../../src/sim/cluster/rolling.ts';

const rolling = (replicas: number, surge: number | string, unavailable: number | string): DeploymentView => ({
  replicas,
  strategy: 'RollingUpdate',
  maxSurge: surge,
  maxUnavailable: unavailable,
});
const rs = (name: string, replicas: number, available: number) => ({
  name,
  replicas,
  available,
  created: name === 'new' ? '2026-01-02T00:00:00Z' : '2026-01-01T00:00:00Z',
});

describe('surge and unavailability', () => {
  it('percentages scale by the replica count: surge rounds up, unavailability down', () => {
    assert.deepEqual([scaledValue('25%', 4, true), scaledValue('25%', 4, false)], [1, 1]);
    assert.deepEqual([scaledValue('25%', 10, true), scaledValue('25%', 10, false)], [3, 2]);
    assert.deepEqual([maxSurge(rolling(1, '25%', '25%')), maxUnavailable(rolling(1, '25%', '25%'))], [1, 0]);
  });

  it('both zero would stall, so one pod may be unavailable; never more than there are replicas', () => {
    assert.equal(maxUnavailable(rolling(3, 0, '10%')), 1);
    assert.equal(maxUnavailable(rolling(2, 1, 5)), 2);
    assert.equal(maxUnavailable({ ...rolling(4, 1, 1), strategy: 'Recreate' }), 0);
  });
});

describe("rolling.go's example: 10 replicas, maxSurge 3, maxUnavailable 2", () => {
  const d = rolling(10, 3, 2);

  it('the new ReplicaSet starts at 3, the old one goes to 8, then the new one to 5', () => {
    assert.equal(newReplicaSetSize(d, [rs('old', 10, 10)], 0), 3);
    assert.deepEqual(rollingStep(d, rs('new', 3, 0), [rs('old', 10, 10)]), new Map([['old', 8]]));
    assert.deepEqual(rollingStep(d, rs('new', 3, 0), [rs('old', 8, 8)]), new Map([['new', 5]]));
  });

  it('new pods that never become available stop the scale-down, even when an old pod fails', () => {
    assert.deepEqual(rollingStep(d, rs('new', 5, 0), [rs('old', 8, 7)]), new Map());
  });

  it('a rollback to the old ReplicaSet removes the unavailable pods first', () => {
    // newRS is the good one again (1 unavailable); the crash-looping set is now the old one.
    const step = rollingStep(d, rs('new', 8, 7), [rs('old', 5, 0)]);
    assert.deepEqual(step, new Map([['old', 1]]));
  });
});
