import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { type DriftFinding, detectDrift } from '../../../src/mesh/istio/drift.ts';
import { hostOf, type PodFacts, PROXY_FLAG_COMPONENT, podFacts } from '../../../src/mesh/istio/facts.ts';
import { rolloutState } from '../../../src/mesh/istio/rollout.ts';
import { makeRestartPlan, restartPlanChanges } from '../../../src/mesh/repair/restart-plan.ts';

const OLD = '10.1.151.122';
const NEW = '10.1.231.182';

/** An injected pod as the API returns it, owned by `<owner>-<hash>` (a ReplicaSet) or another kind. */
function injected(name: string, app: string, owner: { kind: string; name: string }, pilot = OLD): V1Pod {
  const hash = owner.kind === 'ReplicaSet' ? owner.name.split('-').at(-1)! : undefined;
  return {
    metadata: {
      name,
      namespace: 'default',
      labels: { app, ...(hash ? { 'pod-template-hash': hash } : {}) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: name }],
    },
    spec: {
      containers: [
        { name: app },
        { name: 'istio-proxy', args: ['proxy', 'sidecar', '--discoveryAddress', `${pilot}:15007`] },
      ],
    },
    status: { phase: 'Running', podIP: '172.30.0.9' },
  };
}

/** Drift of the pods' sidecar arguments, found the way the status check finds it. */
function podDrift(pods: PodFacts[], live: string[] = [NEW]): DriftFinding[] {
  const addresses = pods.flatMap((p) =>
    Object.entries(p.proxyArgs).map(([flag, value]) => ({
      component: PROXY_FLAG_COMPONENT[flag as keyof typeof PROXY_FLAG_COMPONENT],
      object: `Pod ${p.state.namespace}/${p.state.name}`,
      field: `istio-proxy --${flag}`,
      value,
      host: hostOf(value),
    })),
  );
  return detectDrift(
    { cluster: 'iks', profile: 'istio-1.0', addresses, unresolved: [] },
    { cluster: 'icp', profile: 'istio-1.0', components: { pilot: { live, stable: [] } } },
  );
}

const deployment = (name: string, app: string) => ({
  namespace: 'default',
  name,
  resourceVersion: `rv-${name}`,
  matchLabels: { app },
});

describe('the restart plan (pure)', () => {
  const pods = [
    injected('reviews-v3-abc12-x1', 'reviews', { kind: 'ReplicaSet', name: 'reviews-v3-abc12' }),
    injected('ratings-v2-def34-y1', 'ratings', { kind: 'ReplicaSet', name: 'ratings-v2-def34' }),
    injected('ratings-v2-def34-y2', 'ratings', { kind: 'ReplicaSet', name: 'ratings-v2-def34' }),
    injected('mongodb-0', 'mongodb', { kind: 'StatefulSet', name: 'mongodb' }),
    injected('details-v1-aaa11-z1', 'details', { kind: 'ReplicaSet', name: 'details-v1-aaa11' }, NEW),
  ].map((p) => podFacts(p, Date.now()));
  const deployments = [
    deployment('reviews-v3', 'reviews'),
    deployment('ratings-v2', 'ratings'),
    deployment('details-v1', 'details'),
  ];
  const plan = (unrepaired: string[] = [], live?: string[]) =>
    makeRestartPlan({
      remote: 'iks',
      primary: 'icp',
      profile: 'istio-1.0',
      pods: podDrift(pods, live),
      workloads: pods,
      deployments,
      unrepaired: new Set(unrepaired),
    });

  it('restarts each Deployment owning a pod with an old address, once, in a stable order', () => {
    const p = plan();
    assert.deepEqual(
      p.targets.map((t) => [t.name, t.resourceVersion, t.pods.map((x) => x.name)]),
      [
        ['ratings-v2', 'rv-ratings-v2', ['ratings-v2-def34-y1', 'ratings-v2-def34-y2']],
        ['reviews-v3', 'rv-reviews-v3', ['reviews-v3-abc12-x1']],
      ],
    );
    assert.deepEqual(p.left, [
      {
        pod: 'default/mongodb-0',
        why: 'it is not run by a Deployment (owner mongodb); delete it so it is re-created, if that is safe',
      },
    ]);
    assert.match(
      p.diff,
      /^--- live Deployment default\/ratings-v2 on iks \(resourceVersion rv-ratings-v2\)\n\+\+\+ rolling restart\n@@ pod ratings-v2-def34-y1 · istio-proxy --discoveryAddress 10\.1\.151\.122:15007 · pilot restarted on icp: 10\.1\.151\.122 → 10\.1\.231\.182\n/,
    );
    assert.match(
      p.diff,
      /\+ {2}spec\.template\.metadata\.annotations\["kubectl\.kubernetes\.io\/restartedAt"\]/,
    );
  });

  it('restarts nothing while the configuration still holds the old address, or nothing live exists', () => {
    const waiting = plan(['pilot']);
    assert.deepEqual(waiting.targets, []);
    assert.match(waiting.left[0]!.why, /the pilot address in the configuration on iks is not repaired yet/);
    const nothingLive = plan([], []);
    assert.deepEqual(nothingLive.targets, []);
    assert.match(nothingLive.left[0]!.why, /pilot has no running pod on icp/);
  });

  it('names what moved between an approved plan and the live one', () => {
    const approved = plan().targets;
    const fresh = approved.slice(1).map((t) => ({ ...t, resourceVersion: 'rv-new' }));
    assert.equal(
      restartPlanChanges(approved, fresh),
      'default/ratings-v2 needs no restart any more; Deployment default/reviews-v3 changed (resourceVersion rv-reviews-v3 → rv-new)',
    );
  });
});

describe('rolloutState: kubectl rollout status, as a function', () => {
  const d = (spec: number, status: V1Deployment['status'], generation = 2): V1Deployment => ({
    metadata: { name: 'reviews-v3', generation },
    spec: { replicas: spec, selector: {}, template: {} },
    status,
  });
  it('judges each stage of a rollout', () => {
    assert.deepEqual(rolloutState(d(2, { observedGeneration: 1 })), {
      done: false,
      failed: false,
      text: 'waiting for the restart to be observed',
    });
    assert.equal(
      rolloutState(d(2, { observedGeneration: 2, updatedReplicas: 1, replicas: 3 })).text,
      '1 of 2 new pods created',
    );
    assert.equal(
      rolloutState(d(2, { observedGeneration: 2, updatedReplicas: 2, replicas: 3, availableReplicas: 2 }))
        .text,
      '1 old pod still running',
    );
    assert.equal(
      rolloutState(d(2, { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 }))
        .text,
      '1 of 2 new pods ready',
    );
    assert.deepEqual(
      rolloutState(d(2, { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 })),
      {
        done: true,
        text: '2 of 2 new pods ready',
      },
    );
    const stuck = rolloutState(
      d(2, {
        observedGeneration: 2,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
    );
    assert.deepEqual(stuck, { done: false, failed: true, text: 'reviews-v3 exceeded its progress deadline' });
  });
});
