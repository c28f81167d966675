import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type SimMesh, startSimMesh } from '../../src/sim/index.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';

describe('cluster credentials', () => {
  let mesh: SimMesh;
  let h: Harness;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshops-rotate-'));
    mesh = await startSimMesh({ dir: join(dir, 'sim') });
    // meshops reads its own copies, as from a mounted Secret.
    for (const c of ['icp', 'iks']) copyFileSync(mesh.kubeconfigPath(c), join(dir, `${c}.kubeconfig`));
    h = await startHarness({
      configDir: dir,
      label: 'rotate',
      configYaml: `clusters:
  - { name: icp, role: primary, kubeconfig: ./icp.kubeconfig }
  - { name: iks, role: remote, kubeconfig: ./iks.kubeconfig }
checks: { clusterTimeout: 2s }
`,
    });
  });
  after(async () => {
    await h.close();
    await mesh.close();
  });

  async function clusters(channel: string): Promise<string> {
    await h.command('clusters', { channel });
    const final = await h.waitForVerdict(channel, '/mesh clusters');
    return JSON.stringify(h.thread(channel, final.ts)[0]!.blocks);
  }

  it('uses a rotated token from the kubeconfig file without a restart', async () => {
    assert.match(await clusters('C0ROT1'), /\*icp\* \(primary\) — API server answers/);

    const token = mesh.faults.rotateToken('icp');
    assert.match(await clusters('C0ROT2'), /\*icp\* \(primary\) — not reachable: 401 Unauthorized/);

    // The way a Secret volume updates: a new file swapped in atomically.
    const path = join(dir, 'icp.kubeconfig');
    const next = readFileSync(path, 'utf8').replace(/token: .+/, `token: ${token}`);
    writeFileSync(`${path}.new`, next);
    renameSync(`${path}.new`, path);
    await new Promise((r) => setTimeout(r, 1100)); // the file is looked at once a second
    assert.match(await clusters('C0ROT3'), /\*icp\* \(primary\) — API server answers/);
    assert.doesNotMatch(h.logs.text(), new RegExp(token), 'the new token is never logged');
  });

  it('the app role loads no cluster credentials', async () => {
    const app = await startHarness({
      label: 'app-only',
      role: 'app',
      configYaml: 'clusters: [{name: icp, role: primary, kubeconfig: /nonexistent/icp.kubeconfig}]',
    });
    try {
      const res = await app.command('clusters', { channel: 'C0APP' });
      assert.equal(res.status, 200, 'the app starts and takes commands without reading any kubeconfig');
    } finally {
      await app.close();
    }
  });
});
