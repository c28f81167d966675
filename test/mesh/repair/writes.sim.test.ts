import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.ts';
import { classifyKubeError } from '../../../src/kube/errors.ts';
import { type Clusters, createClusters } from '../../../src/kube/registry.ts';
import { planRemote, readRepairObjects } from '../../../src/mesh/repair/live.ts';
import { restartDeployment, writeEdit } from '../../../src/mesh/repair/writes.ts';
import { type SimMesh, startSimMesh } from '../../../src/sim/index.ts';

/** The writes against a real API server (the simulated one): bound to a resourceVersion, never blind. */
describe('repair writes against the simulated clusters', () => {
  let sim: SimMesh;
  let clusters: Clusters;
  let config: ReturnType<typeof parseConfig>;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-repair-writes-'));
    sim = await startSimMesh({ dir });
    config = parseConfig(
      `clusters:\n  - { name: icp, role: primary, kubeconfig: ./icp.kubeconfig }\n  - { name: iks, role: remote, kubeconfig: ./iks.kubeconfig, remoteSecret: iriscluster }\n`,
      join(dir, 'meshops.yaml'),
      dir,
    );
    clusters = createClusters(config);
  });
  after(() => sim.close());
  const iks = () => clusters.get('iks')!;

  it('a write at a resourceVersion that has moved on is a 409 and changes nothing', async () => {
    await sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const planned = await planRemote({ config, clusters }, 'iks');
    assert.ok(planned.ok);
    const edit = planned.repair.edits.find((e) => e.kind === 'ConfigMap')!;
    // Someone edits the ConfigMap between the plan and the write.
    const cm = await iks().core.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' });
    await iks().core.replaceNamespacedConfigMap({
      name: 'istio',
      namespace: 'istio-system',
      body: { ...cm, metadata: { ...cm.metadata, labels: { ...cm.metadata?.labels, edited: 'by-hand' } } },
    });
    const [current] = await readRepairObjects(iks(), 'istio-1.0', 'istio-system', 5000);
    await assert.rejects(writeEdit(iks(), edit, 5000), (err) => classifyKubeError(err).kind === 'conflict');
    const [still] = await readRepairObjects(iks(), 'istio-1.0', 'istio-system', 5000);
    assert.deepEqual(still, current, 'the ConfigMap is as the other writer left it');
  });

  it('a restart at a stale resourceVersion is a 409 and rolls nothing', async () => {
    const d = await iks().apps.readNamespacedDeployment({ name: 'reviews-v3', namespace: 'default' });
    const target = { namespace: 'default', name: 'reviews-v3', resourceVersion: '1', pods: [] };
    await assert.rejects(
      restartDeployment(iks(), target, new Date(), 5000),
      (err) => classifyKubeError(err).kind === 'conflict',
    );
    const now = await iks().apps.readNamespacedDeployment({ name: 'reviews-v3', namespace: 'default' });
    assert.equal(now.metadata?.generation, d.metadata?.generation);
    assert.equal(now.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], undefined);
  });
});
