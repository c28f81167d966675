import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../../src/kube/cluster.ts';
import { classifyKubeError } from '../../../src/kube/errors.ts';
import {
  endpointsAddresses,
  meshConfigFacts,
  namespaceFacts,
  secretFacts,
  serviceFacts,
  sliceAddresses,
} from '../../../src/mesh/istio/facts.ts';
import { type ClusterSnapshot, gatherCluster, notMirrored } from '../../../src/mesh/istio/gather.ts';
import { readSyncz } from '../../../src/mesh/istio/pilot.ts';
import { istioSetup } from '../../../src/mesh/istio/profiles.ts';
import { modernScenario } from '../../helpers/scenarios.ts';
import { type StatusSim, startStatusSim } from './sim.ts';

// The status check reads every answer as plain JSON into narrow shapes; client-node's models (Dates for
// timestamps, nothing else changed or defaulted in these objects) must give the same facts.
const value = <T>(f: { ok: true; value: T } | { ok: false } | undefined): T => {
  assert.ok(f?.ok, 'the call answered');
  return f.value;
};

async function snapshot(sim: StatusSim, name: string): Promise<{ cluster: Cluster; snap: ClusterSnapshot }> {
  const cluster = sim.clusters.get(name)!;
  const snap = await gatherCluster(cluster, istioSetup(sim.config, cluster.config), {
    timeoutMs: 30_000,
    remotes: sim.clusters.remotes.map((r) => ({
      name: r.name,
      server: r.server,
      ...(r.config.remoteSecret ? { secret: r.config.remoteSecret } : {}),
    })),
  });
  return { cluster, snap };
}

describe("the status check's plain-JSON reads give the facts client-node's models gave (seed: icp, iks)", () => {
  let sim: StatusSim;
  before(async () => {
    sim = await startStatusSim();
  });
  after(() => sim.close());

  it('namespaces, the primary’s Services and remote secrets, pilot’s running pods', async () => {
    const { cluster: icp, snap } = await snapshot(sim, 'icp');
    const o = () => icp.options();
    const namespaces = await icp.core.listNamespace({}, o());
    assert.deepEqual(value(snap.namespaces), namespaces.items.map(namespaceFacts));
    assert.ok(
      value(snap.namespaces).some((n) => n.injection),
      'an injected namespace among them',
    );

    const services = await icp.core.listNamespacedService({ namespace: 'istio-system' }, o());
    assert.deepEqual(value(snap.services), services.items.map(serviceFacts));
    assert.ok(value(snap.services).some((s) => s.addresses.length > 0));

    const [lookup] = value(snap.remoteSecrets);
    assert.ok(lookup?.secret, 'the remote secret is found');
    const secret = await icp.core.readNamespacedSecret(
      { name: lookup.secret.name, namespace: 'istio-system' },
      o(),
    );
    assert.deepEqual(lookup.secret, secretFacts(secret));
    assert.ok(lookup.secret.servers.length > 0, 'its kubeconfig names a server');

    const pilots = await icp.core.listNamespacedPod(
      { namespace: 'istio-system', labelSelector: 'istio=pilot' },
      o(),
    );
    const running = pilots.items
      .filter((p) => p.status?.containerStatuses?.some((s) => s.name === 'discovery' && s.state?.running))
      .map((p) => p.metadata?.name);
    const syncz = await readSyncz(icp, istioSetup(sim.config, icp.config), 30_000);
    assert.equal(syncz.failure, undefined);
    assert.deepEqual(
      syncz.pilots.map((p) => p.pod),
      running,
    );
    assert.equal(running.length, 1);
  });

  it("the 1.0 remote's istio ConfigMap and istio-pilot Endpoints", async () => {
    const { cluster: iks, snap } = await snapshot(sim, 'iks');
    const o = () => iks.options();
    const cm = await iks.core.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' }, o());
    assert.deepEqual(value(snap.meshConfig), meshConfigFacts(cm, 'istio-system'));
    assert.equal(value(snap.meshConfig).state, 'ok');
    const ep = await iks.core.readNamespacedEndpoints(
      { name: 'istio-pilot', namespace: 'istio-system' },
      o(),
    );
    assert.deepEqual(value(snap.pilotEndpoints), endpointsAddresses(ep, 'istio-system', 'pilot'));
    assert.ok((value(snap.pilotEndpoints) ?? []).length > 0);
  });
});

describe("the modern remote's istiod Service, Endpoints and EndpointSlice read as plain JSON (Istio 1.28)", () => {
  let sim: StatusSim;
  before(async () => {
    sim = await startStatusSim({
      scenario: modernScenario('1.28.0'),
      extraConfig: 'istio:\n  profile: modern\n',
    });
  });
  after(() => sim.close());

  it('give the facts client-node’s models gave', async () => {
    const { cluster: iks, snap } = await snapshot(sim, 'iks');
    const o = () => iks.options();
    const svc = await iks.core.readNamespacedService({ name: 'istiod', namespace: 'istio-system' }, o());
    assert.deepEqual(value(snap.istiodService), {
      ...serviceFacts(svc),
      ...(svc.spec?.externalName ? { externalName: svc.spec.externalName } : {}),
    });
    const ep = await iks.core
      .readNamespacedEndpoints({ name: 'istiod', namespace: 'istio-system' }, o())
      .catch((err: unknown) => {
        if (classifyKubeError(err).kind === 'not-found') return null;
        throw err;
      });
    assert.deepEqual(
      value(snap.istiodEndpoints),
      ep ? endpointsAddresses(ep, 'istio-system', 'istiod') : null,
    );
    const slices = await iks.discovery.listNamespacedEndpointSlice(
      { namespace: 'istio-system', labelSelector: 'kubernetes.io/service-name=istiod' },
      o(),
    );
    assert.deepEqual(
      value(snap.istiodSlices),
      sliceAddresses(slices.items.filter(notMirrored), 'istio-system', 'istiod'),
    );
    assert.ok(value(snap.istiodSlices).length > 0, 'the 1.28 chart writes the address into an EndpointSlice');
  });
});
