// Deployments roll out as kube-controller-manager rolls them: watched through the API (client-node's Watch
// over HTTPS), a RollingUpdate never has more than replicas+maxSurge pods nor fewer than
// replicas-maxUnavailable available, and Recreate never runs old and new pods together.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, startTestMesh } from './helpers.ts';

type TestMesh = Awaited<ReturnType<typeof startTestMesh>>;
let t: TestMesh;
let apps: k8s.AppsV1Api;
let kc: k8s.KubeConfig;
const NS = 'rollouts';

before(async () => {
  t = await startTestMesh();
  kc = kubeConfig(t.mesh, 'icp');
  apps = kc.makeApiClient(k8s.AppsV1Api);
  // A namespace without istio-injection: the pods are only the app's container.
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
});
after(() => t.stop());

function deployment(name: string, replicas: number, strategy?: k8s.V1DeploymentStrategy): k8s.V1Deployment {
  return {
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      ...(strategy ? { strategy } : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
      },
    },
  };
}

/** What `kubectl rollout restart` writes: a new template annotation, so a new ReplicaSet. */
async function restart(name: string): Promise<void> {
  await apps.patchNamespacedDeployment(
    {
      name,
      namespace: NS,
      body: {
        spec: {
          template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': `${name}-restart` } } },
        },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}

interface Observed {
  pods: Map<string, k8s.V1Pod>;
  replicaSets: Map<string, k8s.V1ReplicaSet>;
  /** Called after every event with the state it leaves. */
  check: () => void;
}

/** Lists, then watches from the list's resourceVersion (as an informer does), checking each event's state. */
async function observe(app: string, check: (o: Observed) => void) {
  const o: Observed = { pods: new Map(), replicaSets: new Map(), check: () => check(o) };
  const errors: unknown[] = [];
  let waiting: { done: (o: Observed) => boolean; resolve: () => void } | undefined;
  const watch = new k8s.Watch(kc);
  const labelSelector = `app=${app}`;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace: NS, labelSelector });
  const rss = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector });
  for (const p of pods.items) o.pods.set(p.metadata!.name!, p);
  for (const rs of rss.items) o.replicaSets.set(rs.metadata!.name!, rs);
  const follow = <T extends { metadata?: k8s.V1ObjectMeta }>(
    path: string,
    resourceVersion: string | undefined,
    into: Map<string, T>,
  ) =>
    watch.watch(
      path,
      { labelSelector, resourceVersion },
      (type, object: T) => {
        if (type === 'DELETED') into.delete(object.metadata!.name!);
        else into.set(object.metadata!.name!, object);
        try {
          o.check();
        } catch (e) {
          errors.push(e);
        }
        if (waiting?.done(o)) waiting.resolve();
      },
      () => {},
    );
  const controllers = await Promise.all([
    follow(`/api/v1/namespaces/${NS}/pods`, pods.metadata?.resourceVersion, o.pods),
    follow(`/apis/apps/v1/namespaces/${NS}/replicasets`, rss.metadata?.resourceVersion, o.replicaSets),
  ]);
  return {
    o,
    /** Resolves once `done` holds for the watched state; throws the first failed check. */
    until: async (done: (o: Observed) => boolean) => {
      if (!done(o)) await new Promise<void>((resolve) => (waiting = { done, resolve }));
      for (const c of controllers) c.abort();
      if (errors.length > 0) throw errors[0];
    },
  };
}

const ready = (p: k8s.V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const hashOf = (p: k8s.V1Pod) => p.metadata?.labels?.['pod-template-hash'];

describe('RollingUpdate', () => {
  it('with the 25% defaults, 4 replicas surge to at most 5 pods and keep at least 3 available', async () => {
    const created = await apps.createNamespacedDeployment({ namespace: NS, body: deployment('web', 4) });
    // Defaulted as the apiserver does on create.
    assert.deepEqual(
      [
        created.spec?.strategy?.type,
        created.spec?.strategy?.rollingUpdate?.maxSurge,
        created.spec?.strategy?.rollingUpdate?.maxUnavailable,
      ],
      ['RollingUpdate', '25%', '25%'],
    );
    await t.mesh.settled();
    const before = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=web' });
    assert.equal(before.items.length, 1);
    const oldHash = before.items[0]!.metadata?.labels?.['pod-template-hash'];
    let most = 0;
    let fewestReady = 4;
    const rsSizes: number[] = [];
    const { until } = await observe('web', (o) => {
      const pods = [...o.pods.values()];
      most = Math.max(most, pods.length);
      fewestReady = Math.min(fewestReady, pods.filter(ready).length);
      const sizes = [...o.replicaSets.values()].map((rs) => rs.spec?.replicas ?? 0);
      rsSizes.push(sizes.reduce((a, b) => a + b, 0));
      assert.ok(pods.length <= 5, `${pods.length} pods`);
      assert.ok(pods.filter(ready).length >= 3, `${pods.filter(ready).length} ready pods`);
    });
    await restart('web');
    await until((o) => {
      const pods = [...o.pods.values()];
      return pods.length === 4 && pods.every((p) => ready(p) && hashOf(p) !== oldHash);
    });
    // It did surge (one pod more than asked) and did dip (one fewer available), as far as allowed.
    assert.equal(most, 5);
    assert.equal(fewestReady, 3);
    assert.ok(Math.max(...rsSizes) <= 5);

    await t.mesh.settled();
    const rss = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=web' });
    const byRevision = rss.items
      .map((rs) => [rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], rs.spec?.replicas])
      .sort();
    assert.deepEqual(byRevision, [
      ['1', 0],
      ['2', 4],
    ]);
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: NS });
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.deepEqual([d.status?.replicas, d.status?.updatedReplicas, d.status?.availableReplicas], [4, 4, 4]);
    assert.equal(
      d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason,
      'NewReplicaSetAvailable',
    );
  });

  it('maxSurge 0, maxUnavailable 1: never a pod more than asked, one at a time', async () => {
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('api', 4, strategy) });
    await t.mesh.settled();
    let fewestReady = 4;
    const { o, until } = await observe('api', (o) => {
      const pods = [...o.pods.values()];
      fewestReady = Math.min(fewestReady, pods.filter(ready).length);
      assert.ok(pods.length <= 4, `${pods.length} pods`);
    });
    const oldHash = [...o.replicaSets.values()][0]?.metadata?.labels?.['pod-template-hash'];
    await restart('api');
    await until((o) => {
      const pods = [...o.pods.values()];
      return pods.length === 4 && pods.every((p) => ready(p) && hashOf(p) !== oldHash);
    });
    assert.equal(fewestReady, 3);
  });

  it('a new version that never becomes ready stops where availability allows: 3 old pods, 2 new', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('broken', 4) });
    await t.mesh.settled();
    t.mesh.faults.failReadinessOfNewPods('icp', NS, 'app=broken');
    await restart('broken');
    await t.mesh.settled();
    const rss = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=broken' });
    const sizes = rss.items
      .map((rs) => [rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], rs.spec?.replicas])
      .sort();
    assert.deepEqual(sizes, [
      ['1', 3],
      ['2', 2],
    ]);
    const d = await apps.readNamespacedDeployment({ name: 'broken', namespace: NS });
    assert.deepEqual(
      [
        d.status?.replicas,
        d.status?.updatedReplicas,
        d.status?.availableReplicas,
        d.status?.unavailableReplicas,
      ],
      [5, 2, 3, 2],
    );
    // Still available (3 >= 4 - 1), still progressing: what `kubectl rollout status` waits on.
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'ReplicaSetUpdated');
  });
});

describe('Recreate', () => {
  it('removes every old pod before the first new one is created', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment('batch', 4, { type: 'Recreate' }),
    });
    await t.mesh.settled();
    const { until } = await observe('batch', (o) => {
      const hashes = new Set([...o.pods.values()].map(hashOf));
      assert.ok(hashes.size <= 1, `pods of ${hashes.size} templates at once`);
    });
    const oldHash = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=batch' }))
      .items[0]?.metadata?.labels?.['pod-template-hash'];
    await restart('batch');
    await until((o) => {
      const pods = [...o.pods.values()];
      return pods.length === 4 && pods.every((p) => ready(p) && hashOf(p) !== oldHash);
    });
  });
});
