import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Cluster, createCluster } from '../../src/kube/cluster.ts';
import { type SimMesh, startSimMesh } from '../../src/sim/index.ts';

describe('exec over WebSocket', () => {
  let sim: SimMesh;
  let icp: Cluster;
  let pod: string;
  before(async () => {
    sim = await startSimMesh({ dir: mkdtempSync(join(tmpdir(), 'meshops-exec-')) });
    icp = createCluster(
      { name: 'icp', role: 'primary', kubeconfig: sim.kubeconfigPath('icp'), podCidrs: [], serviceCidrs: [] },
      5000,
    );
    const pods = await icp.core.listNamespacedPod(
      { namespace: 'default', labelSelector: 'app=strongswan' },
      icp.options(),
    );
    pod = pods.items[0]!.metadata!.name!;
  });
  after(() => sim.close());

  it('keeps output up to the cap and says how much more there was', async () => {
    const request = { namespace: 'default', pod, command: ['ipsec', 'statusall'], timeoutMs: 5000 };
    const whole = await icp.exec(request);
    assert.ok(whole.stdout.length > 200, 'statusall prints more than the cap used below');
    assert.doesNotMatch(whole.stdout, /output cut/);

    const capped = await icp.exec({ ...request, outputCap: 100 });
    const bytes = Buffer.byteLength(whole.stdout);
    assert.equal(capped.stdout.slice(0, 100), whole.stdout.slice(0, 100));
    assert.equal(
      capped.stdout.slice(100),
      `\n[output cut: ${bytes - 100} more bytes after the first 100]`,
      'the cut is said, with how much was left out',
    );
  });
});
