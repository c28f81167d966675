import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { VpnReport } from '../../../src/mesh/vpn/report.ts';
import { findFinding, grantProbeExec, startVpnSim, type VpnSim } from './sim.ts';

/** The failures a ping from the gateway misses (issue #18), each injected into the simulated seed mesh. */

const find = findFinding;
const judged = (r: VpnReport) => r.findings.filter((f) => f.severity !== 'info').map((f) => f.id);

describe('/mesh vpn finds what a gateway ping misses (simulated seed mesh)', () => {
  let sim: VpnSim;
  before(async () => {
    sim = await startVpnSim();
  });
  afterEach(() => sim.mesh.faults.reset());
  after(() => sim.close());

  it('healthy: the SA counters move both ways between the two reads', async () => {
    const r = await sim.vpn();
    assert.equal(r.verdict, 'healthy', r.summary);
    for (const side of r.tunnels) {
      assert.ok(side.ok);
      const traffic = side.peers[0]?.traffic;
      assert.ok(traffic, `${side.cluster} read twice`);
      assert.ok(traffic.bytesIn > 0 && traffic.bytesOut > 0, JSON.stringify(traffic));
    }
  });

  it('one-way ESP: icp sends, iks receives nothing; named with its likely causes, explaining the lost pings', async () => {
    sim.mesh.faults.setEspBlocked('icp', 'iks');
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    const f = find(r, 'vpn/esp/iks');
    assert.match(
      f.text,
      /^one-way ESP: iks sends [\d.]+ (bytes|kB) to icp but receives nothing back \(bytes_i did not move in \d+ s\), while icp decrypts [\d.]+ (bytes|kB) from iks; both CHILD SAs are INSTALLED$/,
    );
    assert.match(f.action ?? '', /ESP from icp does not reach iks\. Likely: UDP 4500 .* NAT/);
    assert.deepEqual(judged(r), ['vpn/esp/iks'], 'the lost pings are explained by the one-way ESP');
    assert.ok(r.probes.every((p) => p.status === 'lost'));
    const iks = r.tunnels.find((t) => t.cluster === 'iks');
    assert.ok(iks?.ok);
    assert.equal(iks.peers[0]?.state, 'up', 'the tunnel itself looks up');
  });

  it('strongSwan driven by swanctl (no ipsec): the SAs are read from swanctl --list-sas, one-way ESP from its counters', async () => {
    sim.mesh.faults.setStrongswanFrontEnd('icp', 'vici');
    sim.mesh.faults.setStrongswanFrontEnd('iks', 'vici');
    const healthy = await sim.vpn();
    assert.equal(healthy.verdict, 'healthy', healthy.summary);
    for (const side of healthy.tunnels) {
      assert.ok(side.ok, side.cluster);
      assert.equal(side.tool, 'swanctl');
      assert.deepEqual(side.argv, ['swanctl', '--list-sas'], 'ipsec was tried first and is not there');
      assert.equal(side.peers[0]?.state, 'up');
      const traffic = side.peers[0]?.traffic;
      assert.ok(
        traffic && traffic.bytesIn > 0 && traffic.bytesOut > 0,
        `${side.cluster}: ${JSON.stringify(traffic)}`,
      );
    }
    sim.mesh.faults.setEspBlocked('icp', 'iks');
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    assert.match(
      find(r, 'vpn/esp/iks').text,
      /^one-way ESP: iks sends [\d.]+ (bytes|kB) to icp but receives nothing back/,
    );
    assert.deepEqual(judged(r), ['vpn/esp/iks']);
  });

  it('missing service CIDR: iks does not list icp’s service range; the configuration to fix is named', async () => {
    sim.mesh.faults.setSubnets('iks', 'icp', { remoteSubnets: ['10.1.0.0/16'] });
    const r = await sim.vpn();
    const services = r.ports.filter((p) => p.target.label.endsWith(' Service') && p.port.protocol === 'TCP');
    assert.ok(
      services.length > 0 && services.every((p) => p.outcome.kind !== 'open'),
      'the control-plane Service IPs do not answer from iks',
    );
    assert.equal(r.verdict, 'degraded', r.summary);
    const f = find(r, 'vpn/subnets/iks/remote');
    assert.equal(f.text, "the CHILD SA on iks does not carry icp's service CIDR 10.0.0.0/24");
    assert.equal(f.action, 'add 10.0.0.0/24 to remote.subnet on iks');
    assert.deepEqual(judged(r), ['vpn/subnets/iks/remote'], 'icp’s side of the same gap is not said twice');
  });

  it('healthy: DF packets of vpn.mtu cross both ways; every control-plane TCP port answers from iks', async () => {
    const r = await sim.vpn();
    assert.deepEqual(r.mtu.map((m) => [m.key, m.outcome.kind, m.probe.container]).sort(), [
      ['icp>iks', 'fits', 'istio-proxy'],
      ['iks>icp', 'fits', 'istio-proxy'],
    ]);
    assert.deepEqual(
      r.ports.map((p) => `${p.target.label}:${p.port.port}/${p.port.protocol} ${p.outcome.kind}`).sort(),
      [
        'istio-pilot Service:15010/TCP open',
        'istio-pilot Service:15011/TCP open',
        'istio-policy Service:9091/TCP open',
        'istio-statsd-prom-bridge Service:9125/UDP udp-sent',
        'istio-telemetry Service:9091/TCP open',
        'pilot:15010/TCP open',
        'pilot:15011/TCP open',
        'policy:9091/TCP open',
        'statsd-prom-bridge:9125/UDP udp-sent',
        'telemetry:9091/TCP open',
        'tracing:9411/TCP open',
        'zipkin Service:9411/TCP open',
      ],
    );
    assert.ok(
      r.ports
        .filter((p) => p.target.label.endsWith(' Service'))
        .every((p) => p.target.cidr === '10.0.0.0/24'),
      'the Service IPs checked are those in icp’s service CIDR',
    );
    assert.ok(r.nodeProbes.length > 0 && r.nodeProbes.every((p) => p.status === 'ok' && p.probe.node));
  });

  it('MTU black hole: small pings pass, DF packets above 1300 bytes vanish from iks to icp; the MTU and what to set are named', async () => {
    sim.mesh.faults.setPathMtu('iks', 'icp', 1300);
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    const f = find(r, 'vpn/mtu/iks>icp');
    assert.equal(
      f.text,
      'MTU black hole from iks to icp: packets of 1400 bytes with DF set vanish without an ICMP error (the largest that crosses is 1272 bytes, 1304 is lost; vpn.mtu expects 1400) — small pings pass while large transfers hang',
    );
    assert.match(
      f.action ?? '',
      /^set the MTU of the pod network on both clusters to 1272 .* --set-mss 1232/,
    );
    assert.deepEqual(judged(r), ['vpn/mtu/iks>icp'], 'only that direction, and nothing else is wrong');
    assert.ok(
      r.probes.every((p) => p.status === 'ok'),
      'the gateway pings all answer',
    );
  });

  it('TCP blocked while ICMP passes: the control-plane ports time out from iks, by pod and by Service IP, ping answers', async () => {
    sim.mesh.faults.setTcpBlocked('iks', 'icp');
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    const f = find(r, 'vpn/tcp/iks>icp');
    assert.match(
      f.text,
      /^TCP blocked while ICMP passes from iks to icp: istio-pilot Service 10\.0\.0\.\d+:15010\/tcp, istio-pilot Service 10\.0\.0\.\d+:15011\/tcp, istio-policy Service 10\.0\.0\.\d+:9091\/tcp, istio-telemetry Service 10\.0\.0\.\d+:9091\/tcp, pilot 10\.1\.[\d.]+:15010\/tcp, pilot 10\.1\.[\d.]+:15011\/tcp and 4 more time out from default\/reviews-v3-[a-z0-9-]+ while ping to the same pods answers$/,
    );
    const services = r.ports.filter((p) => p.target.label.endsWith(' Service') && p.port.protocol === 'TCP');
    assert.deepEqual(
      services.map((p) => p.outcome.kind),
      ['timeout', 'timeout', 'timeout', 'timeout', 'timeout'],
    );
    assert.match(f.action ?? '', /allow TCP 9091, 9411, 15010, 15011 from iks's pod CIDR/);
    assert.deepEqual(judged(r), ['vpn/tcp/iks>icp']);
    const statsd = r.ports.find((p) => p.port.protocol === 'UDP');
    assert.equal(statsd?.outcome.kind, 'udp-sent', 'UDP is never judged open or blocked by nc');
  });

  it('app pods with BusyBox and no netcat: the path MTU and the ports are said to be unmeasured, with the tool missing', async () => {
    await sim.mesh.faults.addPods('iks', 1, { namespace: 'tools', perDeployment: 1, ping: 'busybox' });
    await grantProbeExec(sim.mesh, 'iks', 'tools');
    const r = await sim
      .withConfig({
        cluster: { iks: 'vpn: { nodeProbe: { namespace: tools, selector: app=bulk-0, container: app } }' },
      })
      .vpn();
    const mtu = find(r, 'vpn/mtu/iks>icp');
    assert.equal(mtu.severity, 'info');
    assert.match(
      mtu.text,
      /^path MTU from iks to icp not measured: in tools\/bulk-0-[a-z0-9-]+ its ping is BusyBox/,
    );
    const nc = find(r, 'vpn/tcp-tool/iks');
    assert.match(nc.text, /the app container of tools\/bulk-0-[a-z0-9-]+ has no nc \(exit 127\)$/);
    assert.ok(
      r.nodeProbes.filter((p) => p.from === 'iks').every((p) => p.status === 'ok'),
      'BusyBox pings are read',
    );
  });

  it('routes DaemonSet down on one node: that node is named, and it explains its pods’ failed pings both ways', async () => {
    const before = await sim.vpn();
    const reviews = before.probes.find((p) => p.key === 'icp>iks/reviews-v3')?.target;
    assert.ok(reviews?.node, 'reviews-v3 runs on a known node');
    assert.deepEqual(
      before.routes.map((r) => (r.ok ? [r.cluster, r.daemonSet, r.desired, r.ready, r.nodesWithout] : r)),
      [
        ['icp', 'vpn-strongswan-routes', 3, 3, []],
        ['iks', 'vpn-strongswan-routes', 3, 3, []],
      ],
    );
    sim.mesh.faults.stopRoutes('iks', reviews.node);
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    const f = find(r, `vpn/routes/iks/${reviews.node}`);
    assert.match(
      f.text,
      new RegExp(
        `^node ${reviews.node.replace(/\./g, '\\.')} on iks has no ready vpn-strongswan-routes pod \\(2 of 3 ready\\), so pods there have no route into the tunnel: the ping from default/reviews-v3-[a-z0-9-]+ to pilot on icp \\([\\d.]+\\) is lost, reviews-v3 \\(${reviews.ip.replace(/\./g, '\\.')}\\) on that node does not answer icp$`,
      ),
    );
    assert.deepEqual(
      judged(r),
      [`vpn/routes/iks/${reviews.node}`],
      'one cause for the failed pings of that node',
    );
    const gateway = r.probes.filter((p) => p.from === 'iks');
    assert.ok(
      gateway.every((p) => p.status === 'ok'),
      'the gateway pod still reaches icp',
    );
  });
});
