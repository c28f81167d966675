// The CustomResourceDefinitions a simulated cluster serves (apiextensions.k8s.io/v1): the seed's primary
// holds every CRD of Istio 1.0.2's crds.yaml, read back as a Kubernetes 1.32 apiserver returns a v1beta1 CRD
// (spec.versions from spec.version, preserveUnknownFields kept true, the controllers' conditions); the
// remote, whose istio-remote chart installs none, lists none.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { Json } from '../../src/sim/cluster/store.ts';
import { kubeConfig, raw, startTestMesh } from './helpers.ts';

type TestMesh = Awaited<ReturnType<typeof startTestMesh>>;
let t: TestMesh;

// The chart's file as the scenario installs it (byte for byte from istio 1.0.2, see scenarios/PROVENANCE.md).
const manifests = parseAllDocuments(
  readFileSync(
    new URL('../../src/sim/scenarios/istio-1.0.2/templates/crds.yaml.gotmpl', import.meta.url),
    'utf8',
  ),
)
  .map((d) => d.toJS() as Json | null)
  .filter((o): o is Json => o?.kind === 'CustomResourceDefinition');

before(async () => {
  t = await startTestMesh();
});
after(() => t.stop());

describe('CustomResourceDefinitions', () => {
  it("lists the primary's 50 Istio 1.0.2 CRDs with client-node, and none on the remote", async () => {
    const icp = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.ApiextensionsV1Api);
    const listed = await icp.listCustomResourceDefinition();
    assert.equal(manifests.length, 50);
    assert.deepEqual(
      listed.items.map((c) => c.metadata?.name),
      manifests.map((m) => m.metadata.name as string).sort(),
    );
    assert.ok(listed.items.every((c) => c.status?.conditions?.some((x) => x.type === 'Established')));
    const iks = kubeConfig(t.mesh, 'iks').makeApiClient(k8s.ApiextensionsV1Api);
    assert.deepEqual((await iks.listCustomResourceDefinition()).items, []);
  });

  it('serves a v1beta1 CRD at v1 as the apiserver converts and completes it', async () => {
    const res = await raw(
      t.mesh,
      'icp',
      'GET',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualservices.networking.istio.io',
    );
    assert.equal(res.status, 200);
    const crd = JSON.parse(res.body) as Json;
    const manifest = manifests.find((m) => m.metadata.name === 'virtualservices.networking.istio.io')!;
    assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.equal(crd.kind, 'CustomResourceDefinition');
    assert.deepEqual(crd.metadata.labels, manifest.metadata.labels);
    assert.deepEqual(crd.metadata.annotations, manifest.metadata.annotations);
    assert.equal(crd.metadata.generation, 1);
    assert.deepEqual(crd.spec, {
      conversion: { strategy: 'None' },
      group: 'networking.istio.io',
      names: manifest.spec.names,
      preserveUnknownFields: true,
      scope: 'Namespaced',
      versions: [{ name: 'v1alpha3', served: true, storage: true }],
    });
    assert.deepEqual(crd.status.acceptedNames, manifest.spec.names);
    assert.deepEqual(crd.status.storedVersions, ['v1alpha3']);
    assert.deepEqual(
      (crd.status.conditions as Json[]).map((c) => [c.type, c.status, c.reason, c.message]),
      [
        ['NamesAccepted', 'True', 'NoConflicts', 'no conflicts found'],
        ['Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted'],
        [
          'NonStructuralSchema',
          'True',
          'Violations',
          'spec.preserveUnknownFields: Invalid value: true: must be false',
        ],
      ],
    );
  });

  it('fills the names v1beta1 defaults: singular and listKind', async () => {
    const res = await raw(
      t.mesh,
      'icp',
      'GET',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/meshpolicies.authentication.istio.io',
    );
    const crd = JSON.parse(res.body) as Json;
    assert.equal(crd.spec.scope, 'Cluster');
    assert.equal(crd.spec.names.listKind, `${crd.spec.names.kind}List`);
    assert.equal(crd.spec.names.singular, crd.spec.names.kind.toLowerCase());
  });

  it('discovery offers v1 only (1.32 no longer serves v1beta1), read-only: a write is 405', async () => {
    const group = JSON.parse((await raw(t.mesh, 'icp', 'GET', '/apis/apiextensions.k8s.io')).body) as Json;
    assert.deepEqual(
      (group.versions as Json[]).map((v) => v.groupVersion),
      ['apiextensions.k8s.io/v1'],
    );
    assert.equal(
      (await raw(t.mesh, 'icp', 'GET', '/apis/apiextensions.k8s.io/v1beta1/customresourcedefinitions'))
        .status,
      404,
    );
    const resources = JSON.parse(
      (await raw(t.mesh, 'icp', 'GET', '/apis/apiextensions.k8s.io/v1')).body,
    ) as Json;
    assert.deepEqual(resources.resources[0].shortNames, ['crd', 'crds']);
    const write = await raw(
      t.mesh,
      'icp',
      'DELETE',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualservices.networking.istio.io',
    );
    assert.equal(write.status, 405);
  });
});
