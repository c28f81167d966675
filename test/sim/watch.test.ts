// Watch as kube-apiserver's watch cache serves it, through client-node's Watch over HTTPS: the current
// objects first without a resourceVersion, the changes since one with it, DELETED for an object leaving
// the selector, and 410 Expired for a resourceVersion older than the history kept.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, startTestMesh } from './helpers.ts';

type TestMesh = Awaited<ReturnType<typeof startTestMesh>>;
let t: TestMesh;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;

before(async () => {
  t = await startTestMesh();
  kc = kubeConfig(t.mesh, 'icp');
  core = kc.makeApiClient(k8s.CoreV1Api);
});
after(() => t.stop());

interface Event {
  type: string;
  name: string;
  object: { metadata?: k8s.V1ObjectMeta; code?: number; reason?: string; message?: string };
}

/** Opens a watch; `next(n)` resolves with the first n events, `stop` closes it. */
async function watch(path: string, query: Record<string, string>) {
  const events: Event[] = [];
  let wake: (() => void) | undefined;
  const controller = await new k8s.Watch(kc).watch(
    path,
    query,
    (type, object) => {
      events.push({ type, name: object.metadata?.name ?? '', object });
      wake?.();
    },
    () => {},
  );
  return {
    next: async (n: number) => {
      while (events.length < n) await new Promise<void>((resolve) => (wake = resolve));
      return events.slice(0, n);
    },
    stop: () => controller.abort(),
  };
}

describe('watch', () => {
  it('without a resourceVersion, sends the matching objects as ADDED first', async () => {
    const w = await watch('/api/v1/namespaces/default/pods', { labelSelector: 'app=reviews' });
    const events = await w.next(2);
    w.stop();
    assert.deepEqual(
      events.map((e) => e.type),
      ['ADDED', 'ADDED'],
    );
    assert.ok(events.every((e) => e.name.startsWith('reviews-v')));
  });

  it("from a list's resourceVersion: a restarted pod is DELETED, its replacement ADDED then MODIFIED as it starts", async () => {
    const listed = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=ratings' });
    const old = listed.items[0]!.metadata!.name!;
    const w = await watch('/api/v1/namespaces/default/pods', {
      labelSelector: 'app=ratings',
      resourceVersion: listed.metadata!.resourceVersion!,
    });
    await t.mesh.faults.restartPod('icp', 'default', old);
    const events = await w.next(3);
    w.stop();
    assert.deepEqual(
      events.map((e) => [e.type, e.name === old]),
      [
        ['DELETED', true],
        ['ADDED', false],
        ['MODIFIED', false],
      ],
    );
    // A deletion carries the resourceVersion it happened at, newer than the list's.
    assert.ok(Number(events[0]!.object.metadata?.resourceVersion) > Number(listed.metadata!.resourceVersion));
  });

  it('an object whose labels stop matching arrives as DELETED', async () => {
    const listed = await core.listNamespacedConfigMap({ namespace: 'istio-system' });
    const w = await watch('/api/v1/namespaces/istio-system/configmaps', {
      labelSelector: 'watched=yes',
      resourceVersion: listed.metadata!.resourceVersion!,
    });
    await core.createNamespacedConfigMap({
      namespace: 'istio-system',
      body: { metadata: { name: 'w', labels: { watched: 'yes' } }, data: { a: '1' } },
    });
    await core.patchNamespacedConfigMap(
      { name: 'w', namespace: 'istio-system', body: { metadata: { labels: { watched: 'no' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const events = await w.next(2);
    w.stop();
    assert.deepEqual(
      events.map((e) => [e.type, e.name]),
      [
        ['ADDED', 'w'],
        ['DELETED', 'w'],
      ],
    );
  });

  it('a resourceVersion older than the history kept gets 410 Expired, as an ERROR event', async () => {
    const before = (await core.listNamespacedPod({ namespace: 'default' })).metadata!.resourceVersion!;
    // reset() rebuilds the clusters: the history before it is gone, as after a watch cache's window.
    await t.mesh.faults.reset();
    const w = await watch('/api/v1/namespaces/default/pods', { resourceVersion: before });
    const [event] = await w.next(1);
    w.stop();
    assert.equal(event?.type, 'ERROR');
    assert.equal(event?.object.code, 410);
    assert.equal(event?.object.reason, 'Expired');
    assert.match(event?.object.message ?? '', new RegExp(`^too old resource version: ${before} \\(\\d+\\)$`));
  });
});
