import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RequestContext } from '@kubernetes/client-node';
import { type Cluster, createCluster } from '../../src/kube/cluster.ts';
import { classifyKubeError } from '../../src/kube/errors.ts';
import { undiciHttpLibrary } from '../../src/kube/http.ts';
import { type SimMesh, startSimMesh } from '../../src/sim/index.ts';

// meshops' own transport under client-node's generated API: what the API answers must reach the caller
// exactly as client-node's fetch transport delivered it (typed models, API errors with their Status).
describe('the undici transport under client-node', () => {
  let sim: SimMesh;
  let icp: Cluster;
  before(async () => {
    sim = await startSimMesh({ dir: mkdtempSync(join(tmpdir(), 'meshops-http-')) });
    icp = createCluster(
      // The transport under test, not meshops' RBAC: an administrator writes the ConfigMap.
      {
        name: 'icp',
        role: 'primary',
        kubeconfig: sim.adminKubeconfigPath('icp'),
        podCidrs: [],
        serviceCidrs: [],
      },
      5000,
    );
  });
  after(() => sim.close());

  it('hands back deserialized models (dates as Date, every pod of the list)', async () => {
    const pods = await icp.core.listNamespacedPod({ namespace: 'istio-system' }, icp.options());
    assert.ok(pods.items.length > 5);
    assert.ok(pods.items.every((p) => p.metadata?.creationTimestamp instanceof Date));
    assert.ok(pods.items.some((p) => p.metadata?.labels?.istio === 'pilot'));
  });

  it('turns an API error into an ApiException carrying the server Status message', async () => {
    const err = await icp.core
      .readNamespacedConfigMap({ name: 'nosuch', namespace: 'istio-system' }, icp.options())
      .then(
        () => assert.fail('a missing ConfigMap was read'),
        (e: unknown) => e,
      );
    assert.deepEqual(classifyKubeError(err), {
      kind: 'not-found',
      status: 404,
      reason: 'configmaps "nosuch" not found',
    });
  });

  it('sends a JSON body and reads the written object back', async () => {
    const name = 'meshops-http-test';
    await icp.core.createNamespacedConfigMap(
      { namespace: 'default', body: { metadata: { name }, data: { said: 'hello' } } },
      icp.options(),
    );
    const back = await icp.core.readNamespacedConfigMap({ name, namespace: 'default' }, icp.options());
    assert.deepEqual(back.data, { said: 'hello' });
  });

  it('refuses a form body, which no Kubernetes call meshops makes sends', async () => {
    const ctx = new RequestContext(`${sim.clusters.get('icp')!.url}/api`, 'POST');
    ctx.setBody(new URLSearchParams({ a: 'b' }));
    await assert.rejects(undiciHttpLibrary.send(ctx).toPromise(), /only JSON or text request bodies/);
  });
});
