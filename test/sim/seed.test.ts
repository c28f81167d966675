// The seed scenario as the seed's clusters show it: the IBM strongSwan chart's VPN Deployment and
// routes DaemonSet in the injection-enabled default namespace, and the remote secret iriscluster.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, startTestMesh } from './helpers.ts';

describe('seed scenario', () => {
  let t: Awaited<ReturnType<typeof startTestMesh>>;
  before(async () => {
    t = await startTestMesh();
  });
  after(() => t.stop());
  const core = (cluster: string) => kubeConfig(t.mesh, cluster).makeApiClient(k8s.CoreV1Api);
  const apps = (cluster: string) => kubeConfig(t.mesh, cluster).makeApiClient(k8s.AppsV1Api);
  const containers = (p: k8s.V1Pod) => p.spec?.containers.map((c) => c.name);

  for (const cluster of ['icp', 'iks']) {
    it(`${cluster}: the VPN pod runs without a sidecar and without an inject annotation; a new one is injected`, async () => {
      const list = () =>
        core(cluster).listNamespacedPod({
          namespace: 'default',
          labelSelector: 'app=strongswan,release=vpn',
        });
      const [vpn] = (await list()).items;
      assert.deepEqual(containers(vpn!), ['strongswan']);
      assert.equal(vpn!.metadata?.annotations?.['sidecar.istio.io/inject'], undefined);
      assert.equal(vpn!.metadata?.annotations?.productID, 'strongSwan_5.9.14');
      // What `kubectl rollout restart deployment/vpn-strongswan` would do to the IPsec gateway.
      await t.mesh.faults.restartPod(cluster, 'default', { labelSelector: 'app=strongswan,release=vpn' });
      const [again] = (await list()).items;
      assert.deepEqual(containers(again!), ['strongswan', 'istio-proxy']);
      await t.mesh.faults.reset();
    });

    it(`${cluster}: the routes DaemonSet runs one hostNetwork pod per node, at the node's IP, never injected`, async () => {
      const ds = await apps(cluster).readNamespacedDaemonSet({
        name: 'vpn-strongswan-routes',
        namespace: 'default',
      });
      assert.equal(ds.spec?.template.spec?.hostNetwork, true);
      assert.deepEqual(ds.metadata?.labels?.app, 'strongswan-routes');
      const nodes = t.mesh.scenario.clusters.find((c) => c.name === cluster)!.nodes;
      assert.equal(ds.status?.desiredNumberScheduled, nodes.length);
      assert.equal(ds.status?.numberReady, nodes.length);
      const pods = (
        await core(cluster).listNamespacedPod({
          namespace: 'default',
          labelSelector: 'app=strongswan-routes,release=vpn',
        })
      ).items;
      assert.deepEqual(pods.map((p) => p.spec?.nodeName).sort(), nodes.map((n) => n.name).sort());
      for (const p of pods) {
        assert.equal(p.status?.podIP, p.status?.hostIP, 'a hostNetwork pod has its node IP');
        assert.deepEqual(containers(p), ['strongswan-routes']);
        assert.equal(p.metadata?.ownerReferences?.[0]?.kind, 'DaemonSet');
      }
      const [gone] = pods;
      await t.mesh.faults.restartPod(cluster, 'default', gone!.metadata!.name!);
      const after = (
        await core(cluster).listNamespacedPod({
          namespace: 'default',
          labelSelector: 'app=strongswan-routes',
        })
      ).items;
      assert.equal(after.length, nodes.length, 'the deleted pod is replaced');
      assert.ok(
        after.some(
          (p) => p.spec?.nodeName === gone!.spec?.nodeName && p.metadata?.name !== gone!.metadata?.name,
        ),
      );
      await t.mesh.faults.reset();
    });
  }

  it('holds the remote secret as the seed names it: iriscluster, labelled istio/multiCluster=true', async () => {
    const secret = await core('icp').readNamespacedSecret({ name: 'iriscluster', namespace: 'istio-system' });
    assert.equal(secret.metadata?.labels?.['istio/multiCluster'], 'true');
    assert.deepEqual(Object.keys(secret.data ?? {}), ['iriscluster']);
  });
});
