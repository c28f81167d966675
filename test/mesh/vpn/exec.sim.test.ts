import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordCommands, startVpnSim, type VpnSim } from './sim.ts';

const tunnelReads = (commands: readonly string[] = []) =>
  commands.filter((c) => c === 'ipsec statusall' || c === 'swanctl --list-sas');

describe('reading the tunnel: which strongSwan front end a pod has', () => {
  let sim: VpnSim;
  before(async () => {
    sim = await startVpnSim();
  });
  after(() => sim.close());

  it('asks both front ends once, then only the one the pod answered with; a changed pod is asked the other', async () => {
    sim.mesh.faults.setStrongswanFrontEnd('iks', 'vici');
    const spy = recordCommands(sim.clusters.all);
    try {
      const first = await sim.vpn();
      assert.equal(first.verdict, 'healthy', first.summary);
      // Both at once on the first check, then the counters' second read with the one that answered.
      assert.deepEqual(tunnelReads(spy.commands.get('iks')), [
        'ipsec statusall',
        'swanctl --list-sas',
        'swanctl --list-sas',
      ]);
      assert.deepEqual(tunnelReads(spy.commands.get('icp')), [
        'ipsec statusall',
        'swanctl --list-sas',
        'ipsec statusall',
      ]);
      spy.commands.clear();
      const second = await sim.vpn();
      assert.equal(second.verdict, 'healthy', second.summary);
      assert.deepEqual(tunnelReads(spy.commands.get('iks')), ['swanctl --list-sas', 'swanctl --list-sas']);
      assert.deepEqual(tunnelReads(spy.commands.get('icp')), ['ipsec statusall', 'ipsec statusall']);
      // The same pod now has only ipsec (as after an image change): swanctl is missing, ipsec answers.
      sim.mesh.faults.setStrongswanFrontEnd('iks', 'stroke');
      spy.commands.clear();
      const changed = await sim.vpn();
      assert.equal(changed.verdict, 'healthy', changed.summary);
      const iks = changed.tunnels.find((t) => t.cluster === 'iks');
      assert.ok(iks?.ok);
      assert.equal(iks.tool, 'ipsec');
      assert.deepEqual(tunnelReads(spy.commands.get('iks')), [
        'swanctl --list-sas',
        'ipsec statusall',
        'ipsec statusall',
      ]);
    } finally {
      spy.restore();
    }
  });
});
