// The other scenarios: modern primary-remote Istio, generated N-cluster meshes, scenario data
// validation.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { generateScenario, loadScenario } from '../../src/sim/index.ts';
import { execIn, kubeConfig, podNamed, raw, startTestMesh } from './helpers.ts';

describe('modern scenario', () => {
  let t: Awaited<ReturnType<typeof startTestMesh>>;
  before(async () => {
    t = await startTestMesh({ scenario: 'modern' });
  });
  after(() => t.stop());

  it('runs istiod and an east-west gateway with a LoadBalancer address on the primary', async () => {
    const core = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.CoreV1Api);
    const istiod = await podNamed(core, 'istio-system', 'app=istiod');
    assert.equal(istiod.metadata?.labels?.istio, 'pilot');
    await podNamed(core, 'istio-system', 'istio=eastwestgateway');
    const ew = await core.readNamespacedService({ name: 'istio-eastwestgateway', namespace: 'istio-system' });
    assert.equal(ew.spec?.type, 'LoadBalancer');
    assert.equal(ew.status?.loadBalancer?.ingress?.[0]?.ip, '198.51.100.50');
    const secrets = await core.listNamespacedSecret({
      namespace: 'istio-system',
      labelSelector: 'istio/multiCluster=true',
    });
    assert.equal(secrets.items[0]?.metadata?.annotations?.['networking.istio.io/cluster'], 'iks');
  });

  it('serves networking.istio.io at v1, v1beta1 and v1alpha3, as Istio 1.22 and later do', async () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      const list = JSON.parse((await raw(t.mesh, 'icp', 'GET', `/apis/networking.istio.io/${v}`)).body);
      assert.deepEqual(
        list.resources.map((r: { name: string }) => r.name),
        ['virtualservices', 'destinationrules'],
      );
    }
    // The modern CRD's additionalPrinterColumns, as kubectl get prints them.
    const table = JSON.parse(
      (
        await raw(t.mesh, 'icp', 'GET', '/apis/networking.istio.io/v1/virtualservices', {
          headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
        })
      ).body,
    );
    assert.deepEqual(
      table.columnDefinitions.map((c: { name: string }) => c.name),
      ['Name', 'Gateways', 'Hosts', 'Age'],
    );
  });

  it('has no istiod pod on the remote, but the istiod Service and (Istio 1.24) Endpoints at the gateway', async () => {
    const kc = kubeConfig(t.mesh, 'iks');
    const core = kc.makeApiClient(k8s.CoreV1Api);
    assert.equal(
      (await core.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'app=istiod' })).items.length,
      0,
    );
    const svc = await core.readNamespacedService({ name: 'istiod', namespace: 'istio-system' });
    assert.equal(svc.spec?.selector, undefined);
    const ep = await core.readNamespacedEndpoints({ name: 'istiod', namespace: 'istio-system' });
    assert.deepEqual(
      ep.subsets?.map((s) => s.addresses?.map((a) => a.ip)),
      [['198.51.100.50']],
    );
    assert.equal(ep.metadata?.labels?.['helm.sh/chart'], 'istiod-1.24.2');
    const ns = await core.readNamespace({ name: 'istio-system' });
    assert.equal(ns.metadata?.annotations?.['topology.istio.io/controlPlaneClusters'], 'icp');
    const vpn = (await podNamed(core, 'default', 'app=strongswan')).metadata!.name!;
    const ping = await execIn(kc, 'default', vpn, 'strongswan', ['ping', '-c', '1', '198.51.100.50']);
    assert.equal(ping.exitCode, 0);
  });
});

describe('EndpointSlice mirroring (kube-controller-manager) on the modern remote', () => {
  let t: Awaited<ReturnType<typeof startTestMesh>>;
  before(async () => {
    t = await startTestMesh({ scenario: 'modern' });
  });
  after(() => t.stop());

  it('mirrors the istiod Endpoints into a slice of its own, follows them, and undoes an edit of the slice', async () => {
    const kc = kubeConfig(t.mesh, 'iks');
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const mirrored = async () => {
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace: 'istio-system',
        labelSelector: 'kubernetes.io/service-name=istiod',
      });
      assert.equal(slices.items.length, 1);
      return slices.items[0]!;
    };
    const slice = await mirrored();
    assert.match(slice.metadata?.name ?? '', /^istiod-[a-z0-9]{5}$/);
    assert.equal(
      slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'],
      'endpointslicemirroring-controller.k8s.io',
    );
    assert.equal(slice.metadata?.labels?.['helm.sh/chart'], 'istiod-1.24.2', "the Endpoints' labels");
    assert.deepEqual(
      slice.endpoints?.map((e) => [e.addresses, e.conditions?.ready]),
      [[['198.51.100.50'], true]],
    );
    assert.deepEqual(
      slice.ports?.map((p) => [p.name, p.port]),
      [
        ['tcp-istiod', 15012],
        ['tcp-webhook', 15017],
      ],
    );

    await discovery.replaceNamespacedEndpointSlice({
      name: slice.metadata!.name!,
      namespace: 'istio-system',
      body: { ...slice, endpoints: [{ addresses: ['198.51.100.99'] }] },
    });
    await t.mesh.settled();
    assert.deepEqual((await mirrored()).endpoints?.[0]?.addresses, ['198.51.100.50'], 'the edit is undone');

    const ep = await core.readNamespacedEndpoints({ name: 'istiod', namespace: 'istio-system' });
    await core.replaceNamespacedEndpoints({
      name: 'istiod',
      namespace: 'istio-system',
      body: { ...ep, subsets: [{ ...ep.subsets![0], addresses: [{ ip: '198.51.100.77' }] }] },
    });
    await t.mesh.settled();
    assert.deepEqual(
      (await mirrored()).endpoints?.[0]?.addresses,
      ['198.51.100.77'],
      'it follows the Endpoints',
    );
  });
});

describe('generated scenarios', () => {
  it('grows the seed to N clusters with distinct CIDRs, tunnels and remote secrets', () => {
    const s = generateScenario({ clusters: 10 });
    assert.equal(s.clusters.length, 10);
    assert.equal(new Set(s.clusters.map((c) => c.podCidr)).size, 10);
    assert.equal(s.network.tunnels.length, 9);
    const primary = s.clusters[0]!;
    assert.deepEqual(
      primary.remoteSecrets.map((r) => r.cluster),
      s.clusters.slice(1).map((c) => c.name),
    );
  });

  it("starts a 4-cluster mesh whose remotes all point at the primary's pilot", async () => {
    const t = await startTestMesh({ scenario: generateScenario({ clusters: 4 }) });
    try {
      const pilot = await podNamed(
        kubeConfig(t.mesh, 'icp').makeApiClient(k8s.CoreV1Api),
        'istio-system',
        'istio=pilot',
      );
      for (const name of ['iks-1', 'iks-2', 'iks-3']) {
        const core = kubeConfig(t.mesh, name).makeApiClient(k8s.CoreV1Api);
        const cm = await core.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' });
        assert.match(
          cm.data!.mesh!,
          new RegExp(`discoveryAddress: ${pilot.status!.podIP!.replaceAll('.', '\\.')}:15007`),
        );
        const vpn = (await podNamed(core, 'default', 'app=strongswan')).metadata!.name!;
        const ping = await execIn(kubeConfig(t.mesh, name), 'default', vpn, 'strongswan', [
          'ping',
          '-c',
          '1',
          pilot.status!.podIP!,
        ]);
        assert.equal(ping.exitCode, 0, name);
      }
    } finally {
      await t.stop();
    }
  });
});

describe('scenario validation', () => {
  it('names the offending field', () => {
    assert.throws(
      () =>
        loadScenario({
          name: 'bad',
          clusters: [
            {
              name: 'x',
              role: 'primary',
              podCidr: '10.0.0.0/16',
              serviceCidr: '10.1.0.0/16',
              nodes: [],
              namespaces: [],
            },
          ],
        }),
      /nodes/,
    );
    assert.throws(
      () =>
        loadScenario({
          name: 'bad',
          clusters: [
            {
              name: 'a',
              role: 'primary',
              podCidr: '10.0.0.0/16',
              serviceCidr: '10.1.0.0/16',
              nodes: [{ name: 'n', ip: '1.1.1.1' }],
              namespaces: [],
            },
          ],
          network: { tunnels: [{ between: ['a', 'b'], rttMs: 5, sides: {} }] },
        }),
      /tunnel end b is not a cluster/,
    );
  });
});
