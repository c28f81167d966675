import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { FaultPanel } from '../../src/console/server.ts';
import { simFaultPanel } from '../../src/demo/faults.ts';
import { startVpnSim, type VpnSim } from '../mesh/vpn/sim.ts';

/** Each VPN fault of the demo's panel, pressed, then /mesh vpn run: the fault is found and named. */
describe('the demo’s VPN faults are what /mesh vpn finds', () => {
  let sim: VpnSim;
  let panel: FaultPanel;
  before(async () => {
    sim = await startVpnSim();
    panel = simFaultPanel(sim.mesh);
  });
  afterEach(() => panel.run('reset'));
  after(() => sim.close());

  const cases: [string, RegExp, RegExp][] = [
    [
      'routes-down',
      /^iks: vpn-strongswan-routes-\S+ on node [\d.]+ is crash-looping/,
      /^vpn\/routes\/iks\/[\d.]+$/,
    ],
    ['mtu-black-hole', /DF packets above 1300 bytes are dropped silently/, /^vpn\/mtu\/(icp>iks|iks>icp)$/],
    ['one-way-esp', /ESP dropped on the way/, /^vpn\/esp\/iks$/],
    [
      'missing-service-cidr',
      /remote\.subnet is now 10\.1\.0\.0\/16 only \(10\.0\.0\.0\/24 is missing\)/,
      /^vpn\/subnets\/iks\/remote$/,
    ],
    ['tcp-blocked', /TCP dropped, ICMP still passes/, /^vpn\/tcp\/iks>icp$/],
  ];
  it('swanctl, then one-way ESP: the SAs and their counters are read with swanctl', async () => {
    assert.match(await panel.run('swanctl'), /swanctl --list-sas only/);
    await panel.run('one-way-esp');
    const r = await sim.vpn();
    assert.deepEqual(
      r.tunnels.map((t) => (t.ok ? t.argv.join(' ') : t.problem)),
      ['swanctl --list-sas', 'swanctl --list-sas'],
    );
    const judged = r.findings.filter((f) => f.severity !== 'info').map((f) => f.id);
    assert.deepEqual(judged, ['vpn/esp/iks']);
  });

  for (const [id, message, finding] of cases) {
    it(id, async () => {
      assert.match(await panel.run(id), message);
      const r = await sim.vpn();
      const judged = r.findings.filter((f) => f.severity !== 'info').map((f) => f.id);
      assert.ok(judged.length > 0 && judged.every((f) => finding.test(f)), `${id}: ${judged.join(', ')}`);
    });
  }
});
