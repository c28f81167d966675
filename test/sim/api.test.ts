// The simulated API as client-node sees it: auth, discovery, lists with selectors, gets,
// Status errors, custom resources with optimistic concurrency and every patch type.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { Json } from '../../src/sim/cluster/store.ts';
import { kubeConfig, raw, startTestMesh } from './helpers.ts';

type TestMesh = Awaited<ReturnType<typeof startTestMesh>>;
let t: TestMesh;
let core: k8s.CoreV1Api;
let coreIks: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;

before(async () => {
  t = await startTestMesh();
  core = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.CoreV1Api);
  coreIks = kubeConfig(t.mesh, 'iks').makeApiClient(k8s.CoreV1Api);
  custom = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.CustomObjectsApi);
});
after(() => t.stop());

async function apiError(promise: Promise<unknown>): Promise<{ code: number; status: Json | undefined }> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof k8s.ApiException, String(e));
    return { code: e.code, status: typeof e.body === 'string' && e.body ? JSON.parse(e.body) : undefined };
  }
  assert.fail('expected an ApiException');
}

describe('kubeconfig and authentication', () => {
  it('writes one kubeconfig per cluster whose context is the cluster name', () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(t.mesh.kubeconfigPath('iks'));
    assert.equal(kc.getCurrentContext(), 'iks');
    assert.equal(kc.getCurrentCluster()?.server, t.mesh.clusters.get('iks')!.url);
    assert.match(kc.getCurrentCluster()?.server ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(kc.getCurrentUser()?.token, t.mesh.clusters.get('iks')!.token);
    const admin = kubeConfig(t.mesh, 'iks');
    assert.equal(admin.getCurrentCluster()?.server, t.mesh.clusters.get('iks')!.url);
    assert.notEqual(admin.getCurrentUser()?.token, t.mesh.clusters.get('iks')!.token, 'a token of its own');
  });

  it('answers 401 without a token or with a wrong one', async () => {
    for (const token of [null, 'wrong']) {
      const res = await raw(t.mesh, 'icp', 'GET', '/api/v1/pods', { token });
      assert.equal(res.status, 401);
      assert.deepEqual(JSON.parse(res.body), {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
    const kc = kubeConfig(t.mesh, 'icp');
    kc.users[0] = { ...kc.users[0]!, token: 'wrong' };
    const e = await apiError(kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'default' }));
    assert.equal(e.code, 401);
  });
});

describe('discovery', () => {
  it('serves the version, groups and resource lists kubectl walks', async () => {
    const version = JSON.parse((await raw(t.mesh, 'icp', 'GET', '/version')).body);
    assert.equal(version.gitVersion, 'v1.32.4');
    assert.equal(version.minor, '32');
    const groups = JSON.parse((await raw(t.mesh, 'icp', 'GET', '/apis')).body);
    // istio-demo.yaml 1.0.2 installs the istio chart's crds.yaml: each Istio group at its one version.
    assert.deepEqual(
      groups.groups.map((g: { name: string; versions: { version: string }[] }) => [
        g.name,
        g.versions.map((v) => v.version),
      ]),
      [
        ['apps', ['v1']],
        ['discovery.k8s.io', ['v1']],
        ['rbac.authorization.k8s.io', ['v1']],
        // 1.32 serves CustomResourceDefinitions at v1 only (v1beta1 went in 1.22).
        ['apiextensions.k8s.io', ['v1']],
        ['networking.istio.io', ['v1alpha3']],
        ['authentication.istio.io', ['v1alpha1']],
        ['config.istio.io', ['v1alpha2']],
        ['rbac.istio.io', ['v1alpha1']],
      ],
    );
    // Istio 1.0's MeshPolicy is cluster-scoped, its Policy namespaced (crds.yaml at 1.0.2).
    const authn = JSON.parse(
      (await raw(t.mesh, 'icp', 'GET', '/apis/authentication.istio.io/v1alpha1')).body,
    );
    assert.deepEqual(
      authn.resources.map((r: { name: string; namespaced: boolean }) => [r.name, r.namespaced]),
      [
        ['policies', true],
        ['meshpolicies', false],
      ],
    );
    const networking = JSON.parse(
      (await raw(t.mesh, 'icp', 'GET', '/apis/networking.istio.io/v1alpha3')).body,
    );
    assert.deepEqual(
      networking.resources.map((r: { name: string; shortNames?: string[] }) => [r.name, r.shortNames]),
      [
        ['virtualservices', undefined],
        ['destinationrules', undefined],
        ['serviceentries', undefined],
        ['gateways', undefined],
        ['envoyfilters', undefined],
      ],
      'the 1.0.2 CRDs declare no short names',
    );
    for (const v of ['v1', 'v1beta1'])
      assert.equal((await raw(t.mesh, 'icp', 'GET', `/apis/networking.istio.io/${v}`)).status, 404, v);
    const config = JSON.parse((await raw(t.mesh, 'icp', 'GET', '/apis/config.istio.io/v1alpha2')).body);
    assert.equal(config.resources.length, 40);
    // The istio-remote 1.0.2 chart installs no CRDs: no Istio group (the CRD API itself is always there).
    const remote = JSON.parse((await raw(t.mesh, 'iks', 'GET', '/apis')).body);
    assert.deepEqual(
      remote.groups.map((g: { name: string }) => g.name),
      ['apps', 'discovery.k8s.io', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io'],
    );
    const core = JSON.parse((await raw(t.mesh, 'icp', 'GET', '/api/v1')).body);
    assert.ok(core.resources.some((r: { name: string }) => r.name === 'pods/exec'));
    const missing = await raw(t.mesh, 'icp', 'GET', '/openapi/v2');
    assert.equal(missing.status, 404);
  });
});

describe('core resources', () => {
  it('lists pods with label selectors', async () => {
    const pilot = await core.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'istio=pilot' });
    assert.equal(pilot.kind, 'PodList');
    assert.match(pilot.metadata?.resourceVersion ?? '', /^\d+$/);
    assert.equal(pilot.items.length, 1);
    assert.deepEqual(
      pilot.items[0]!.spec?.containers.map((c) => c.name),
      ['discovery', 'istio-proxy'],
    );
    const mixers = await core.listNamespacedPod({
      namespace: 'istio-system',
      labelSelector: 'istio-mixer-type in (policy,telemetry)',
    });
    assert.deepEqual(mixers.items.map((p) => p.metadata?.labels?.['istio-mixer-type']).sort(), [
      'policy',
      'telemetry',
    ]);
    const notMixer = await core.listNamespacedPod({
      namespace: 'istio-system',
      labelSelector: 'istio,istio!=mixer,!app',
    });
    assert.ok(
      notMixer.items.every(
        (p) => p.metadata?.labels?.istio && p.metadata.labels.istio !== 'mixer' && !p.metadata.labels.app,
      ),
    );
    assert.ok(notMixer.items.some((p) => p.metadata?.labels?.istio === 'citadel'));
    const strongswan = await core.listPodForAllNamespaces({ labelSelector: 'app=strongswan,release=vpn' });
    assert.equal(strongswan.items.length, 1);
  });

  it('lists pods with field selectors, across namespaces', async () => {
    const done = await core.listNamespacedPod({
      namespace: 'istio-system',
      fieldSelector: 'status.phase=Succeeded',
    });
    assert.deepEqual(done.items.map((p) => p.metadata?.name?.replace(/-[a-z0-9]{5}$/, '')).sort(), [
      'istio-cleanup-secrets',
      'istio-security-post-install',
    ]);
    const all = await core.listPodForAllNamespaces();
    const running = await core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded' });
    assert.equal(all.items.length - running.items.length, 2);
    const inDefault = await core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=default' });
    assert.ok(
      inDefault.items.length > 0 && inDefault.items.every((p) => p.metadata?.namespace === 'default'),
    );
    const e = await apiError(core.listNamespacedPod({ namespace: 'default', fieldSelector: 'spec.bogus=1' }));
    assert.equal(e.code, 400);
  });

  it('gets a pod, and 404s like the apiserver', async () => {
    const [first] = (
      await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=reviews,version=v1' })
    ).items;
    const pod = await core.readNamespacedPod({ name: first!.metadata!.name!, namespace: 'default' });
    assert.equal(pod.status?.phase, 'Running');
    assert.match(pod.status?.podIP ?? '', /^10\.1\.\d+\.\d+$/);
    assert.deepEqual(
      pod.spec?.initContainers?.map((c) => c.name),
      ['istio-init'],
    );
    const e = await apiError(core.readNamespacedPod({ name: 'nope', namespace: 'default' }));
    assert.equal(e.code, 404);
    assert.equal(e.status?.reason, 'NotFound');
    assert.equal(e.status?.message, 'pods "nope" not found');
  });

  it('serves namespaces with labels, secrets by label, services and endpoints', async () => {
    const ns = await core.readNamespace({ name: 'default' });
    assert.equal(ns.metadata?.labels?.['istio-injection'], 'enabled');
    const secrets = await core.listNamespacedSecret({
      namespace: 'istio-system',
      labelSelector: 'istio/multiCluster=true',
    });
    assert.deepEqual(
      secrets.items.map((s) => s.metadata?.name),
      ['iriscluster'],
      "the seed's secret name",
    );
    const remoteKubeconfig = parse(Buffer.from(secrets.items[0]!.data!.iriscluster!, 'base64').toString());
    assert.equal(remoteKubeconfig.clusters[0].cluster.server, t.mesh.clusters.get('iks')!.url);
    const svc = await core.readNamespacedService({ name: 'istio-pilot', namespace: 'istio-system' });
    assert.deepEqual(
      svc.spec?.ports?.map((p) => p.port),
      [15010, 15011, 8080, 9093],
    );
    const pilot = (await core.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'istio=pilot' }))
      .items[0]!;
    const ep = await core.readNamespacedEndpoints({ name: 'istio-pilot', namespace: 'istio-system' });
    assert.equal(ep.subsets?.[0]?.addresses?.[0]?.ip, pilot.status?.podIP);
  });

  it("holds the remote's istio ConfigMap and istio-pilot Endpoints with icp's pod IPs", async () => {
    const ip = async (selector: string) =>
      (await core.listNamespacedPod({ namespace: 'istio-system', labelSelector: selector })).items[0]!.status!
        .podIP!;
    const mesh = parse(
      (await coreIks.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' })).data!.mesh!,
    );
    assert.equal(mesh.defaultConfig.discoveryAddress, `${await ip('istio=pilot')}:15007`);
    assert.equal(mesh.mixerCheckServer, `${await ip('istio-mixer-type=policy')}:15004`);
    assert.equal(mesh.mixerReportServer, `${await ip('istio-mixer-type=telemetry')}:15004`);
    assert.equal(mesh.defaultConfig.statsdUdpAddress, `${await ip('istio=statsd-prom-bridge')}:9125`);
    assert.equal(mesh.defaultConfig.zipkinAddress, `${await ip('app=jaeger')}:9411`);
    const ep = await coreIks.readNamespacedEndpoints({ name: 'istio-pilot', namespace: 'istio-system' });
    assert.equal(ep.subsets?.[0]?.addresses?.[0]?.ip, await ip('istio=pilot'));
    const svc = await coreIks.readNamespacedService({ name: 'istio-pilot', namespace: 'istio-system' });
    assert.equal(svc.spec?.clusterIP, 'None');
    assert.equal(svc.spec?.selector, undefined);
  });

  it("updates the remote's ConfigMap and Endpoints (as a repair would) with 409 on a stale write", async () => {
    const cm = await coreIks.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' });
    const stale = structuredClone(cm);
    cm.data!.mesh = cm.data!.mesh!.replace(/discoveryAddress: .*/, 'discoveryAddress: 10.1.9.9:15007');
    const updated = await coreIks.replaceNamespacedConfigMap({
      name: 'istio',
      namespace: 'istio-system',
      body: cm,
    });
    assert.notEqual(updated.metadata?.resourceVersion, stale.metadata?.resourceVersion);
    const conflict = await apiError(
      coreIks.replaceNamespacedConfigMap({ name: 'istio', namespace: 'istio-system', body: stale }),
    );
    assert.equal(conflict.code, 409);
    assert.equal(conflict.status?.reason, 'Conflict');
    await coreIks.patchNamespacedEndpoints(
      {
        name: 'istio-pilot',
        namespace: 'istio-system',
        body: [{ op: 'replace', path: '/subsets/0/addresses/0/ip', value: '10.1.9.9' }],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    const ep = await coreIks.readNamespacedEndpoints({ name: 'istio-pilot', namespace: 'istio-system' });
    assert.equal(ep.subsets?.[0]?.addresses?.[0]?.ip, '10.1.9.9');
    await t.mesh.faults.reset();
  });

  it('pages with limit and continue', async () => {
    const first = await core.listPodForAllNamespaces({ limit: 5 });
    assert.equal(first.items.length, 5);
    assert.ok(first.metadata?._continue);
    const rest = await core.listPodForAllNamespaces({ _continue: first.metadata!._continue! });
    const all = await core.listPodForAllNamespaces();
    assert.equal(first.items.length + rest.items.length, all.items.length);
  });

  it('serves apps/v1 deployments and discovery.k8s.io/v1 endpointslices', async () => {
    const apps = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.AppsV1Api);
    const d = await apps.readNamespacedDeployment({ name: 'istio-pilot', namespace: 'istio-system' });
    assert.equal(d.status?.readyReplicas, 1);
    assert.deepEqual(d.spec?.selector.matchLabels, { istio: 'pilot', app: 'pilot' });
    const discovery = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.DiscoveryV1Api);
    const slices = await discovery.listNamespacedEndpointSlice({
      namespace: 'default',
      labelSelector: 'kubernetes.io/service-name=reviews',
    });
    assert.equal(slices.items[0]?.endpoints?.length, 2);
  });
});

describe('Istio custom resources', () => {
  const vs = (version: string) => ({
    group: 'networking.istio.io',
    version,
    namespace: 'default',
    plural: 'virtualservices',
  });

  it('lists and gets at v1alpha3, the one version Istio 1.0 serves', async () => {
    const list = (await custom.listNamespacedCustomObject(vs('v1alpha3'))) as Json;
    assert.equal(list.kind, 'VirtualServiceList');
    assert.deepEqual(
      list.items.map((i: Json) => i.metadata.name),
      ['details', 'productpage', 'ratings', 'reviews'],
    );
    assert.ok(
      list.items.every(
        (i: Json) => i.apiVersion === 'networking.istio.io/v1alpha3' && i.kind === 'VirtualService',
      ),
    );
    const one = (await custom.getNamespacedCustomObject({ ...vs('v1alpha3'), name: 'reviews' })) as Json;
    assert.deepEqual(one.spec.http[0].route[0].destination, { host: 'reviews', subset: 'v1' });
    assert.equal((await apiError(custom.listNamespacedCustomObject(vs('v1beta1')))).code, 404);
    const drs = (await custom.listNamespacedCustomObject({
      ...vs('v1alpha3'),
      plural: 'destinationrules',
    })) as Json;
    assert.deepEqual(
      drs.items.find((d: Json) => d.metadata.name === 'reviews').spec.subsets.map((s: Json) => s.name),
      ['v1', 'v2', 'v3'],
    );
  });

  it('replace: 409 on a stale resourceVersion, 422 without one', async () => {
    const current = (await custom.getNamespacedCustomObject({ ...vs('v1alpha3'), name: 'ratings' })) as Json;
    const stale = structuredClone(current);
    current.spec.http[0].route[0].destination.subset = 'v2';
    const replaced = (await custom.replaceNamespacedCustomObject({
      ...vs('v1alpha3'),
      name: 'ratings',
      body: current,
    })) as Json;
    assert.equal(replaced.metadata.generation, current.metadata.generation + 1);
    const conflict = await apiError(
      custom.replaceNamespacedCustomObject({ ...vs('v1alpha3'), name: 'ratings', body: stale }),
    );
    assert.equal(conflict.code, 409);
    assert.match(
      conflict.status?.message,
      /Operation cannot be fulfilled on virtualservices.networking.istio.io "ratings": the object has been modified/,
    );
    delete stale.metadata.resourceVersion;
    const invalid = await apiError(
      custom.replaceNamespacedCustomObject({ ...vs('v1alpha3'), name: 'ratings', body: stale }),
    );
    assert.equal(invalid.code, 422);
  });

  it('patches with merge patch, JSON patch and server-side apply; 415 for strategic merge', async () => {
    const merged = (await custom.patchNamespacedCustomObject(
      {
        ...vs('v1alpha3'),
        name: 'reviews',
        body: { spec: { http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    )) as Json;
    assert.equal(merged.spec.http[0].route[0].destination.subset, 'v2');
    assert.deepEqual(merged.spec.hosts, ['reviews']);
    const jsonPatched = (await custom.patchNamespacedCustomObject(
      {
        ...vs('v1alpha3'),
        name: 'reviews',
        body: [{ op: 'replace', path: '/spec/http/0/route/0/destination/subset', value: 'v3' }],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    )) as Json;
    assert.equal(jsonPatched.spec.http[0].route[0].destination.subset, 'v3');
    const failedTest = await apiError(
      custom.patchNamespacedCustomObject(
        { ...vs('v1alpha3'), name: 'reviews', body: [{ op: 'test', path: '/spec/hosts/0', value: 'nope' }] },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      ),
    );
    assert.equal(failedTest.code, 422);
    const intent = {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'VirtualService',
      metadata: { name: 'reviews-canary', namespace: 'default' },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] },
    };
    const applied = (await custom.patchNamespacedCustomObject(
      { ...vs('v1alpha3'), name: 'reviews-canary', body: intent, fieldManager: 'meshops', force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    )) as Json;
    assert.equal(applied.metadata.managedFields[0].manager, 'meshops');
    const noManager = await apiError(
      custom.patchNamespacedCustomObject(
        { ...vs('v1alpha3'), name: 'reviews-canary', body: intent },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      ),
    );
    assert.equal(noManager.code, 422);
    const strategic = await apiError(
      custom.patchNamespacedCustomObject(
        { ...vs('v1alpha3'), name: 'reviews', body: { spec: {} } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
      ),
    );
    assert.equal(strategic.code, 415);
    const wrongBody = await apiError(
      custom.patchNamespacedCustomObject({ ...vs('v1alpha3'), name: 'reviews', body: { spec: {} } }),
    );
    assert.equal(wrongBody.code, 400);
  });

  it('creates (409 if it exists) and deletes', async () => {
    const body = {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'DestinationRule',
      metadata: { name: 'extra' },
      spec: { host: 'extra' },
    };
    const dr = { ...vs('v1alpha3'), plural: 'destinationrules' };
    const created = (await custom.createNamespacedCustomObject({ ...dr, body })) as Json;
    assert.equal(created.metadata.namespace, 'default');
    assert.equal(
      (await apiError(custom.createNamespacedCustomObject({ ...dr, body }))).status?.reason,
      'AlreadyExists',
    );
    await custom.deleteNamespacedCustomObject({ ...dr, name: 'extra' });
    assert.equal((await apiError(custom.getNamespacedCustomObject({ ...dr, name: 'extra' }))).code, 404);
  });
});

describe('Tables for kubectl', () => {
  it('answers Accept: as=Table with printPod columns', async () => {
    const res = await raw(t.mesh, 'icp', 'GET', '/api/v1/namespaces/istio-system/pods', {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    const table = JSON.parse(res.body);
    assert.equal(table.kind, 'Table');
    assert.deepEqual(
      table.columnDefinitions.slice(0, 5).map((c: Json) => c.name),
      ['Name', 'Ready', 'Status', 'Restarts', 'Age'],
    );
    const row = (prefix: string) => table.rows.find((r: Json) => r.cells[0].startsWith(prefix));
    assert.deepEqual(row('istio-pilot-').cells.slice(1, 4), ['2/2', 'Running', '0']);
    assert.deepEqual(row('istio-cleanup-secrets-').cells.slice(1, 3), ['0/1', 'Completed']);
    assert.equal(row('istio-cleanup-secrets-').conditions[0].reason, 'Succeeded');
    assert.equal(row('istio-pilot-').object.kind, 'PartialObjectMetadata');
  });
});
