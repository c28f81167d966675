import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type SimMesh, startSimMesh } from '../../src/sim/index.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';
import { configFor } from '../mesh/istio/sim.ts';

describe('/mesh clusters against the simulated clusters', () => {
  let mesh: SimMesh;
  let h: Harness;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-clusters-'));
    mesh = await startSimMesh({ dir });
    h = await startHarness({
      configDir: dir,
      label: 'clusters',
      configYaml: configFor(mesh, 'checks: { clusterTimeout: 5s }\n'),
    });
  });
  after(async () => {
    await h.close();
    await mesh.close();
  });

  async function run(channel: string) {
    await h.command('clusters', { channel });
    const final = await h.waitForVerdict(channel, '/mesh clusters');
    return { final, reply: JSON.stringify(h.thread(channel, final.ts)[0]!.blocks) };
  }

  it('reports each API server with its Kubernetes version', async () => {
    const { final, reply } = await run('C0CLOK');
    assert.match(final.text, /\*healthy\*: all 2 clusters answer/);
    assert.match(reply, /\*icp\* \(primary\) — API server answers, Kubernetes v\d+\.\d+/);
    assert.match(reply, /\*iks\* \(remote\) — API server answers, Kubernetes v\d+\.\d+/);
  });

  it('says why a cluster does not answer: refused, 401, 503, timeout — and still reports the other', async () => {
    const cases: [string, () => unknown, RegExp][] = [
      [
        'C0CLREF',
        () => mesh.faults.refuseConnections('iks'),
        /\*iks\* \(remote\) — not reachable: connection refused/,
      ],
      [
        'C0CL401',
        () => mesh.faults.revokeToken('iks'),
        /\*iks\* \(remote\) — not reachable: 401 Unauthorized/,
      ],
      [
        'C0CL503',
        () => mesh.faults.setUnavailable('iks', true),
        /\*iks\* \(remote\) — not reachable: 503 from the API server/,
      ],
      [
        'C0CLSLOW',
        // iks never answers in time; icp has the production bound, so a loaded machine cannot time it out too.
        () => mesh.faults.setApiLatency('iks', 10 * 60_000),
        /\*iks\* \(remote\) — not reachable: timed out after 5000 ms/,
      ],
    ];
    for (const [channel, breakIt, expected] of cases) {
      await breakIt();
      const { final, reply } = await run(channel);
      await mesh.faults.reset();
      assert.match(final.text, /\*degraded\*: 1 of 2 clusters do not answer: iks/, channel);
      assert.match(reply, expected, channel);
      assert.match(reply, /\*icp\* \(primary\) — API server answers/, channel);
    }
  });
});
