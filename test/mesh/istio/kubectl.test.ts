import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { podState } from '../../../src/mesh/istio/pod-status.ts';
import { type StatusSim, startStatusSim } from './sim.ts';

const KUBECTL = '/usr/bin/kubectl';
const run = promisify(execFile);

/**
 * The bot's READY/STATUS/RESTARTS must be what `kubectl get pods` prints for the same pods: the real
 * kubectl against the simulated clusters, with the pods in the states the status check reports on.
 */
describe('pod status matches `kubectl get pods`', {
  skip: existsSync(KUBECTL) ? false : `no kubectl at ${KUBECTL}`,
}, () => {
  let sim: StatusSim;
  const home = mkdtempSync(join(tmpdir(), 'meshops-kubectl-'));
  before(async () => {
    sim = await startStatusSim();
    const f = sim.mesh.faults;
    f.crashLoop(
      'icp',
      'istio-system',
      { labelSelector: 'istio-mixer-type=telemetry' },
      { container: 'mixer', reason: 'OOMKilled' },
    );
    f.crashLoop(
      'icp',
      'istio-system',
      { labelSelector: 'istio-mixer-type=policy' },
      { container: 'mixer', reason: 'Error' },
    );
    f.imagePullBackOff('icp', 'istio-system', { labelSelector: 'istio=galley' });
    f.setContainerReady('icp', 'istio-system', { labelSelector: 'istio=pilot' }, false, {
      container: 'istio-proxy',
    });
    f.setContainerReady('iks', 'default', { labelSelector: 'app=reviews' }, false, {
      container: 'istio-proxy',
    });
  });
  after(() => sim.close());

  for (const [cluster, namespace] of [
    ['icp', 'istio-system'],
    ['iks', 'istio-system'],
    ['iks', 'default'],
  ] as const) {
    it(`${cluster} ${namespace}`, async () => {
      const { stdout } = await run(
        KUBECTL,
        [
          '--kubeconfig',
          sim.mesh.adminKubeconfigPath(cluster),
          '--cache-dir',
          join(home, 'cache'),
          'get',
          'pods',
          '-n',
          namespace,
          '--no-headers',
        ],
        { env: { ...process.env, HOME: home } },
      );
      const printed = stdout
        .trim()
        .split('\n')
        .map((line) => {
          const [name, ready, status, restarts] = line.split(/\s+/);
          return [name, ready, status, Number(restarts)];
        });
      const list = await sim.clusters.get(cluster)!.core.listNamespacedPod({ namespace });
      const ours = list.items.map((p) => {
        const s = podState(p, Date.now());
        return [s.name, s.ready, s.status, s.restarts];
      });
      assert.deepEqual(ours, printed);
      const statuses = new Set(ours.map((p) => p[2]));
      if (cluster === 'icp') {
        for (const s of ['Running', 'CrashLoopBackOff', 'ImagePullBackOff', 'Completed'])
          assert.ok(statuses.has(s), `the fixture shows ${s}`);
      }
    });
  }
});
