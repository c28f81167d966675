// Faults and changes: the drift case, rollouts, unhealthy containers, scaling, and the API
// server misbehaving; then reset.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { waitFor } from '../helpers/wait.ts';
import { kubeConfig, podNamed, raw, startTestMesh } from './helpers.ts';

type TestMesh = Awaited<ReturnType<typeof startTestMesh>>;
let t: TestMesh;
let coreIcp: k8s.CoreV1Api;
let coreIks: k8s.CoreV1Api;

before(async () => {
  // Long enough to observe a rolling restart's ContainerCreating pods under a loaded test run.
  t = await startTestMesh({ podStartMs: 250 });
  coreIcp = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.CoreV1Api);
  coreIks = kubeConfig(t.mesh, 'iks').makeApiClient(k8s.CoreV1Api);
});
afterEach(() => t.mesh.faults.reset());
after(() => t.stop());

const discoveryArg = (pod: k8s.V1Pod) => {
  const args = pod.spec?.containers.find((c) => c.name === 'istio-proxy')?.args ?? [];
  return args[args.indexOf('--discoveryAddress') + 1];
};

describe("control-plane address drift (the seed's known limitation)", () => {
  it('restarting pilot gives it a new name and IP while iks keeps the old one', async () => {
    const before = await podNamed(coreIcp, 'istio-system', 'istio=pilot');
    const [change] = await t.mesh.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    assert.equal(change?.before.name, before.metadata?.name);
    assert.ok(change?.after);
    assert.notEqual(change.after.name, change.before.name);
    assert.notEqual(change.after.ip, change.before.ip);
    assert.match(change.after.name, /^istio-pilot-[a-z0-9]{10}-[a-z0-9]{5}$/);
    const now = await podNamed(coreIcp, 'istio-system', 'istio=pilot');
    assert.equal(now.status?.podIP, change.after.ip);
    assert.equal(now.status?.phase, 'Running');
    const mesh = parse(
      (await coreIks.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' })).data!.mesh!,
    );
    assert.equal(mesh.defaultConfig.discoveryAddress, `${change.before.ip}:15007`);
    const ep = await coreIks.readNamespacedEndpoints({ name: 'istio-pilot', namespace: 'istio-system' });
    assert.equal(ep.subsets?.[0]?.addresses?.[0]?.ip, change.before.ip);
    assert.equal(
      discoveryArg(await podNamed(coreIks, 'default', 'app=reviews')),
      `${change.before.ip}:15007`,
    );
    const pilotEp = await coreIcp.readNamespacedEndpoints({ name: 'istio-pilot', namespace: 'istio-system' });
    assert.equal(pilotEp.subsets?.[0]?.addresses?.[0]?.ip, change.after.ip);
  });

  it('after the ConfigMap is repaired, a rolling restart re-injects the live address', async () => {
    const [change] = await t.mesh.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const cm = await coreIks.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' });
    await coreIks.patchNamespacedConfigMap(
      {
        name: 'istio',
        namespace: 'istio-system',
        body: {
          data: { mesh: cm.data!.mesh!.replace(`${change!.before.ip}:15007`, `${change!.after!.ip}:15007`) },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const apps = kubeConfig(t.mesh, 'iks').makeApiClient(k8s.AppsV1Api);
    const old = await podNamed(coreIks, 'default', 'app=reviews');
    await apps.patchNamespacedDeployment(
      {
        name: 'reviews-v3',
        namespace: 'default',
        body: {
          spec: {
            template: {
              metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
            },
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    const during = await coreIks.listNamespacedPod({ namespace: 'default', labelSelector: 'app=reviews' });
    assert.ok(
      during.items.some(
        (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating',
      ),
    );
    await t.mesh.settled();
    const pods = (await coreIks.listNamespacedPod({ namespace: 'default', labelSelector: 'app=reviews' }))
      .items;
    assert.equal(pods.length, 1);
    assert.notEqual(pods[0]!.metadata?.name, old.metadata?.name);
    assert.notEqual(pods[0]!.status?.podIP, old.status?.podIP);
    assert.equal(discoveryArg(pods[0]!), `${change!.after!.ip}:15007`);
    const d = await apps.readNamespacedDeployment({ name: 'reviews-v3', namespace: 'default' });
    assert.deepEqual([d.status?.readyReplicas, d.status?.updatedReplicas, d.metadata?.generation], [1, 1, 2]);
  });
});

describe('unhealthy containers', () => {
  it('crash-loops with a growing restart count and the last termination reason', async () => {
    t.mesh.faults.crashLoop(
      'icp',
      'istio-system',
      { labelSelector: 'istio-mixer-type=telemetry' },
      { reason: 'OOMKilled' },
    );
    t.mesh.faults.crashLoop(
      'icp',
      'istio-system',
      { labelSelector: 'istio-mixer-type=telemetry' },
      { reason: 'OOMKilled' },
    );
    const pod = await podNamed(coreIcp, 'istio-system', 'istio-mixer-type=telemetry');
    const mixer = pod.status?.containerStatuses?.find((c) => c.name === 'mixer');
    assert.equal(mixer?.restartCount, 2);
    assert.equal(mixer?.ready, false);
    assert.equal(mixer?.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(mixer?.lastState?.terminated?.reason, 'OOMKilled');
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    const table = JSON.parse(
      (
        await raw(t.mesh, 'icp', 'GET', `/api/v1/namespaces/istio-system/pods/${pod.metadata?.name}`, {
          headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
        })
      ).body,
    );
    assert.deepEqual(table.rows[0].cells.slice(1, 3), ['1/2', 'CrashLoopBackOff']);
    assert.match(table.rows[0].cells[3], /^2 \(\d+s ago\)$/);
  });

  it('keeps crash-looping on a timer with everyMs', async () => {
    t.mesh.faults.crashLoop(
      'icp',
      'istio-system',
      { labelSelector: 'istio-mixer-type=policy' },
      { everyMs: 10 },
    );
    // Polled: on a loaded machine a fixed 60 ms wait may see only the first tick.
    await waitFor('three restarts', async () => {
      const pod = await podNamed(coreIcp, 'istio-system', 'istio-mixer-type=policy');
      return (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 3;
    });
  });

  it('marks a sidecar unready, and an image that cannot be pulled', async () => {
    t.mesh.faults.setContainerReady('iks', 'default', { labelSelector: 'app=reviews' }, false, {
      container: 'istio-proxy',
    });
    const pod = await podNamed(coreIks, 'default', 'app=reviews');
    assert.equal(pod.status?.containerStatuses?.find((c) => c.name === 'istio-proxy')?.ready, false);
    assert.equal(
      pod.status?.conditions?.find((c) => c.type === 'Ready')?.message,
      'containers with unready status: [istio-proxy]',
    );
    const ep = await coreIks.readNamespacedEndpoints({ name: 'reviews', namespace: 'default' });
    assert.equal(ep.subsets?.[0]?.notReadyAddresses?.[0]?.ip, pod.status?.podIP);
    t.mesh.faults.imagePullBackOff('icp', 'istio-system', { labelSelector: 'istio=galley' });
    const galley = await podNamed(coreIcp, 'istio-system', 'istio=galley');
    assert.equal(galley.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ImagePullBackOff');
    assert.equal(galley.status?.phase, 'Pending');
  });
});

describe('components and scale', () => {
  it('scales a deployment to 0 and back', async () => {
    await t.mesh.faults.scaleDeployment('icp', 'istio-system', 'istio-statsd-prom-bridge', 0);
    assert.equal(
      (
        await coreIcp.listNamespacedPod({
          namespace: 'istio-system',
          labelSelector: 'istio=statsd-prom-bridge',
        })
      ).items.length,
      0,
    );
    await t.mesh.faults.scaleDeployment('icp', 'istio-system', 'istio-statsd-prom-bridge', 2);
    const pods = await coreIcp.listNamespacedPod({
      namespace: 'istio-system',
      labelSelector: 'istio=statsd-prom-bridge',
    });
    assert.equal(pods.items.filter((p) => p.status?.phase === 'Running').length, 2);
  });

  it('deletes a Job pod for good', async () => {
    await t.mesh.faults.deletePod('iks', 'istio-system', { labelSelector: 'app=security' });
    assert.equal(
      (await coreIks.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'app=security' })).items
        .length,
      0,
    );
  });

  it('adds thousands of pods', async () => {
    await t.mesh.faults.addPods('icp', 2000);
    const list = await coreIcp.listNamespacedPod({ namespace: 'bulk' });
    assert.equal(list.items.length, 2000);
    assert.equal(new Set(list.items.map((p) => p.status?.podIP)).size, 2000);
  });
});

describe('API server faults', () => {
  it('answers 503 when unavailable', async () => {
    t.mesh.faults.setUnavailable('iks', true);
    const res = await raw(t.mesh, 'iks', 'GET', '/api/v1/namespaces/default/pods');
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(res.body).reason, 'ServiceUnavailable');
  });

  it('refuses connections, then listens again on the same port', async () => {
    const port = t.mesh.clusters.get('iks')!.port;
    await t.mesh.faults.refuseConnections('iks');
    await assert.rejects(coreIks.listNamespacedPod({ namespace: 'default' }), /ECONNREFUSED|fetch failed/);
    await t.mesh.faults.restoreConnections('iks');
    assert.equal(t.mesh.clusters.get('iks')!.port, port);
    assert.ok((await coreIks.listNamespacedPod({ namespace: 'default' })).items.length > 0);
  });

  it('adds latency to every request', async () => {
    t.mesh.faults.setApiLatency('icp', 120);
    const start = performance.now();
    await coreIcp.listNamespacedPod({ namespace: 'default' });
    assert.ok(performance.now() - start >= 115);
  });

  it("revokes meshops' token (401); an administrator's still works", async () => {
    t.mesh.faults.revokeToken('icp');
    const meshops = { token: t.mesh.clusters.get('icp')!.token };
    assert.equal((await raw(t.mesh, 'icp', 'GET', '/api/v1/pods', meshops)).status, 401);
    assert.equal((await raw(t.mesh, 'icp', 'GET', '/api/v1/pods')).status, 200);
  });

  it('resets everything back to the scenario', async () => {
    const pilot = await podNamed(coreIcp, 'istio-system', 'istio=pilot');
    await t.mesh.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    t.mesh.faults.setUnavailable('icp', true);
    const rvBefore = JSON.parse((await raw(t.mesh, 'iks', 'GET', '/api/v1/pods')).body).metadata
      .resourceVersion;
    await t.mesh.faults.reset();
    const again = await podNamed(coreIcp, 'istio-system', 'istio=pilot');
    assert.equal(again.metadata?.name, pilot.metadata?.name);
    assert.equal(again.status?.podIP, pilot.status?.podIP);
    const rvAfter = JSON.parse((await raw(t.mesh, 'iks', 'GET', '/api/v1/pods')).body).metadata
      .resourceVersion;
    assert.ok(Number(rvAfter) > Number(rvBefore));
  });
});
