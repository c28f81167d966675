import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { cidrContains, parseCidr } from '../../../src/mesh/vpn/ipv4.ts';
import type { ProbeResult, VpnReport } from '../../../src/mesh/vpn/report.ts';
import { kubeConfigs } from '../../helpers/kube.ts';
import { findFinding, findingIds, grantProbeExec, recordCommands, startVpnSim, type VpnSim } from './sim.ts';

const ids = findingIds;
const find = findFinding;
const probe = (r: VpnReport, key: string): ProbeResult => {
  const p = r.probes.find((x) => x.key === key);
  assert.ok(p, `probe ${key} among: ${r.probes.map((x) => x.key).join(', ')}`);
  return p;
};
const judged = (r: VpnReport) => r.findings.filter((f) => f.severity !== 'info');
const inCidr = (cidr: string, ip: string | undefined) =>
  ip !== undefined && cidrContains(parseCidr(cidr)!, ip);

const CONTROL_PLANE = ['pilot', 'policy', 'telemetry', 'statsd-prom-bridge', 'tracing'];

describe('/mesh vpn against the simulated seed mesh (icp primary, iks remote)', () => {
  let sim: VpnSim;
  before(async () => {
    sim = await startVpnSim();
  });
  afterEach(() => sim.mesh.faults.reset());
  after(() => sim.close());

  it('tunnel up: both sides ESTABLISHED + INSTALLED, every pair answers, healthy', async () => {
    const r = await sim.vpn();
    assert.equal(r.verdict, 'healthy', r.summary);
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.pairs, [['icp', 'iks']]);
    for (const side of r.tunnels) {
      assert.ok(side.ok, `${side.cluster} readable`);
      assert.equal(side.tool, 'ipsec');
      assert.deepEqual(
        side.peers.map((p) => [p.peer, p.state, p.missingRemote, p.missingLocal]),
        [[side.cluster === 'icp' ? 'iks' : 'icp', 'up', [], []]],
      );
    }
    // From the remote: the primary's control-plane pods its sidecars dial; from the primary: one pod per remote app.
    assert.deepEqual(
      r.probes.map((p) => p.key),
      [...CONTROL_PLANE.map((c) => `iks>icp/${c}`), 'icp>iks/reviews-v3'],
    );
    for (const p of r.probes) {
      assert.equal(p.status, 'ok', p.key);
      assert.equal(p.outcome.kind, 'stats');
      if (p.outcome.kind !== 'stats') continue;
      assert.equal(p.outcome.flavour, 'iputils');
      assert.equal(p.outcome.transmitted, 3);
      assert.equal(p.outcome.received, 3);
      assert.ok(
        p.outcome.rtt && p.outcome.rtt.avg > 30 && p.outcome.rtt.avg < 80,
        'about the seed tunnel RTT of 52 ms',
      );
    }
    assert.equal(
      probe(r, 'iks>icp/pilot').probe.name.startsWith('vpn-strongswan-'),
      true,
      'probes run in the strongSwan pod',
    );
    assert.match(probe(r, 'icp>iks/reviews-v3').target.cidr ?? '', /^172\.30\.0\.0\/16$/);
    assert.match(r.summary, /^tunnel up; 6 of 6 ping targets answer, avg RTT \d+ ms$/);
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r, 'the report survives JSON unchanged');
  });

  it('every ping starts before any port check, across clusters: the quick checks end alongside the pings', async () => {
    const spy = recordCommands(sim.clusters.all);
    try {
      const r = await sim.vpn();
      assert.equal(r.verdict, 'healthy', r.summary);
    } finally {
      spy.restore();
    }
    const order = spy.started.map((s) => s.command.split(' ')[0]);
    const lastPing = order.lastIndexOf('ping');
    const firstNc = order.indexOf('nc');
    assert.ok(firstNc > 0 && lastPing > 0, order.join(', '));
    assert.ok(
      lastPing < firstNc,
      `started: ${spy.started.map((s) => `${s.cluster}: ${s.command}`).join('; ')}`,
    );
  });

  it('tunnel down on both sides: down, named per side, every ping lost', async () => {
    sim.mesh.faults.setTunnel('icp', 'iks', 'down');
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    const f = find(r, 'vpn/tunnel/iks');
    assert.equal(f.severity, 'critical');
    assert.equal(
      f.text,
      'tunnel down on both sides (icp is CONNECTING with no answer, no SA on iks) — 6 of 6 pings lost',
    );
    assert.match(f.action ?? '', /strongSwan runs on iks.*UDP 500 and 4500/);
    assert.deepEqual(
      judged(r).map((x) => x.id),
      ['vpn/tunnel/iks'],
      'the lost pings are explained by the tunnel',
    );
    assert.ok(r.probes.every((p) => p.status === 'lost'));
    assert.equal(r.summary, f.text);
  });

  it('tunnel down on one side: says which side', async () => {
    sim.mesh.faults.setTunnel('icp', 'iks', 'down', { side: 'iks' });
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    const f = find(r, 'vpn/tunnel/iks');
    assert.equal(f.text, 'tunnel down on the iks side (no SA) — 6 of 6 pings lost');
    assert.match(f.action ?? '', /sides disagree: restart strongSwan on iks/);
    const icp = r.tunnels.find((t) => t.cluster === 'icp');
    assert.ok(icp?.ok);
    assert.equal(icp.peers[0]?.state, 'up');

    await sim.mesh.faults.reset();
    sim.mesh.faults.setTunnel('icp', 'iks', 'down', { side: 'icp' });
    const other = await sim.vpn();
    assert.match(
      find(other, 'vpn/tunnel/iks').text,
      /^tunnel down on the icp side \(CONNECTING, no answer from its peer\)/,
    );
  });

  it('half-up: IKE up but no CHILD SA is not up', async () => {
    sim.mesh.faults.setTunnel('icp', 'iks', 'half-up', { side: 'iks' });
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    assert.equal(find(r, 'vpn/tunnel/iks').text, 'IKE up but no CHILD SA on iks — 6 of 6 pings lost');
    const iks = r.tunnels.find((t) => t.cluster === 'iks');
    assert.ok(iks?.ok);
    assert.equal(iks.sas[0]?.state, 'ESTABLISHED');
    assert.deepEqual(iks.sas[0]?.children, []);

    await sim.mesh.faults.reset();
    sim.mesh.faults.setTunnel('icp', 'iks', 'half-up');
    assert.equal(
      find(await sim.vpn(), 'vpn/tunnel/iks').text,
      'IKE up but no CHILD SA on icp and iks — 6 of 6 pings lost',
    );
  });

  it('one direction lost: pings from icp to iks fail while iks → icp answers', async () => {
    const before = await sim.vpn();
    const reviews = probe(before, 'icp>iks/reviews-v3').target.ip;
    const iksProbe = probe(before, 'iks>icp/pilot').probe.ip;
    // Replies to iks' probe travel the same link, so only a range without that probe loses one direction.
    assert.ok(
      inCidr('172.30.0.0/17', reviews) && !inCidr('172.30.0.0/17', iksProbe),
      'seed addresses as expected',
    );
    sim.mesh.faults.setLink('icp', 'iks', { lossPct: 100 }, { cidr: '172.30.0.0/17' });
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    const f = find(r, 'vpn/direction/icp>iks');
    assert.equal(f.text, `pings from icp to iks are lost while iks → icp answers: reviews-v3 (${reviews})`);
    // The fault is on the path, not in ipsec.conf: both CHILD SAs carry the range, so it is not blamed.
    assert.match(
      f.action ?? '',
      /^the CHILD SAs on icp and iks carry 172\.30\.0\.0\/16, so the traffic selectors are not the cause: check the routes into the tunnel/,
    );
    assert.deepEqual(
      judged(r).map((x) => x.id),
      ['vpn/direction/icp>iks'],
    );
    assert.ok(r.probes.filter((p) => p.from === 'iks').every((p) => p.status === 'ok'));
  });

  it('both directions lost with the tunnel up: the path, not the tunnel', async () => {
    sim.mesh.faults.setLink('iks', 'icp', { lossPct: 100 });
    const r = await sim.vpn();
    assert.equal(r.verdict, 'down');
    assert.equal(
      find(r, 'vpn/path/iks').text,
      'the tunnel is up but no ping passes between icp and iks (6 of 6 lost)',
    );
  });

  it('one CIDR lost: replies lost only towards that range; the selectors carry it, so the path is named', async () => {
    const split = sim.withConfig({
      cidrs: {
        icp: { pod: ['10.1.0.0/18', '10.1.64.0/18', '10.1.128.0/17'], service: ['10.0.0.0/24'] },
        iks: { pod: ['172.30.0.0/16'], service: ['172.21.0.0/16'] },
      },
    });
    const before = await split.vpn();
    const lower = before.probes.filter((p) => p.from === 'iks' && inCidr('10.1.64.0/18', p.target.ip));
    const icpProbe = probe(before, 'icp>iks/reviews-v3').probe.ip;
    assert.ok(
      lower.length > 0 && lower.length < 5 && !inCidr('10.1.64.0/18', icpProbe),
      'seed addresses as expected',
    );
    sim.mesh.faults.setLink('iks', 'icp', { lossPct: 100 }, { cidr: '10.1.64.0/18' });
    const r = await split.vpn();
    assert.equal(r.verdict, 'down');
    const f = find(r, 'vpn/cidr/iks>icp/10.1.64.0/18');
    assert.match(f.text, /^replies lost only towards 10\.1\.64\.0\/18 on icp when pinged from iks: /);
    for (const p of lower) assert.ok(f.text.includes(`${p.target.label} (${p.target.ip})`), p.key);
    assert.match(
      f.action ?? '',
      /^the CHILD SAs on iks and icp carry 10\.1\.64\.0\/18, so the traffic selectors are not the cause/,
    );
    assert.deepEqual(
      judged(r).map((x) => x.id),
      ['vpn/cidr/iks>icp/10.1.64.0/18'],
    );
    assert.ok(
      r.probes
        .filter((p) => !inCidr('10.1.64.0/18', p.target.ip) && p.from === 'iks')
        .every((p) => p.status === 'ok'),
    );
  });

  it('packet loss and slow round trips on a working tunnel: degraded, per direction', async () => {
    sim.mesh.faults.setLink('iks', 'icp', { rttMs: 300 });
    const slow = await sim.vpn();
    assert.equal(slow.verdict, 'degraded');
    assert.match(
      find(slow, 'vpn/rtt/iks>icp').text,
      /^slow from iks to icp: pilot \(10\.[\d.]+\) avg \d+ ms/,
    );
    assert.equal(probe(slow, 'icp>iks/reviews-v3').status, 'ok', 'RTT is per direction in the model');

    await sim.mesh.faults.reset();
    sim.mesh.faults.setLink('iks', 'icp', { lossPct: 40 });
    const lossy = await sim.withConfig({ extra: 'vpn:\n  count: 10\n' }).vpn();
    assert.equal(lossy.verdict, 'degraded');
    assert.ok(
      lossy.findings.some((f) => f.id.startsWith('vpn/loss/')),
      ids(lossy).join(', '),
    );
  });

  it('probe pod missing: a clear finding per cluster, the tunnel is still read', async () => {
    const r = await sim.withConfig({ extra: 'vpn:\n  probe: { selector: app=netshoot }\n' }).vpn();
    assert.equal(r.verdict, 'degraded');
    for (const c of ['icp', 'iks']) {
      const f = find(r, `vpn/probe/${c}`);
      assert.equal(f.text, `no probe pod on ${c}: no pod matches app=netshoot in namespace default`);
      assert.equal(f.area, 'not-checked');
    }
    assert.deepEqual(r.probes, []);
    assert.ok(r.tunnels.every((t) => t.ok && t.peers[0]?.state === 'up'));
  });

  it('strongSwan pod missing: one finding, and the pings it would have sent are said to be skipped', async () => {
    await sim.mesh.faults.scaleDeployment('iks', 'default', 'vpn-strongswan', 0);
    const r = await sim.vpn();
    assert.equal(
      find(r, 'vpn/strongswan/iks').text,
      'no strongSwan pod on iks: no pod matches app=strongswan in namespace default; pings from iks were skipped too',
    );
    assert.ok(!ids(r).includes('vpn/probe/iks'));
    assert.deepEqual(
      r.probes.map((p) => p.key),
      ['icp>iks/reviews-v3'],
    );
  });

  it('BusyBox probe pod: its output is read like iputils', async () => {
    await sim.mesh.faults.addPods('iks', 1, { namespace: 'tools', perDeployment: 1, ping: 'busybox' });
    await grantProbeExec(sim.mesh, 'iks', 'tools');
    const r = await sim
      .withConfig({ cluster: { iks: 'vpn: { probe: { namespace: tools, selector: app=bulk-0 } }' } })
      .vpn();
    assert.equal(r.verdict, 'healthy', r.summary);
    const fromIks = r.probes.filter((p) => p.from === 'iks');
    assert.equal(fromIks.length, 5);
    for (const p of fromIks) {
      assert.equal(p.probe.namespace, 'tools');
      assert.equal(p.outcome.kind === 'stats' && p.outcome.flavour, 'busybox', p.key);
      assert.equal(p.status, 'ok');
    }
    assert.ok(
      r.probes.every((p) => p.target.pod?.namespace !== 'tools'),
      'the probe pod is no target',
    );
  });

  it('a probe pod without ping (exit 127): a finding, not a crash', async () => {
    await sim.mesh.faults.addPods('iks', 1, { namespace: 'tools', perDeployment: 1, ping: 'none' });
    await grantProbeExec(sim.mesh, 'iks', 'tools');
    const r = await sim
      .withConfig({ cluster: { iks: 'vpn: { probe: { namespace: tools, selector: app=bulk-0 } }' } })
      .vpn();
    const f = find(r, 'vpn/probe/iks');
    assert.match(
      f.text,
      /^the probe pod tools\/bulk-0-[a-z0-9-]+ on iks cannot ping: ping is not available in the probe container \(exit 127: sh: ping: not found\)$/,
    );
    assert.equal(r.verdict, 'degraded');
  });

  it('exec forbidden (403): a finding naming the permission; the other direction still measured', async () => {
    sim.mesh.faults.forbidExec('iks');
    const r = await sim.vpn();
    assert.equal(r.verdict, 'degraded');
    const f = find(r, 'vpn/exec/iks');
    assert.match(f.text, /^meshops may not exec into pods on iks: 403/);
    assert.match(f.action ?? '', /pods\/exec/);
    assert.equal(judged(r).length, 1, ids(r).join(', '));
    assert.equal(probe(r, 'icp>iks/reviews-v3').status, 'ok');

    sim.mesh.faults.forbidExec('icp');
    const none = await sim.vpn();
    assert.equal(none.verdict, 'failed', 'nothing could be looked at');
    assert.deepEqual(
      judged(none)
        .map((x) => x.id)
        .sort(),
      ['vpn/exec/icp', 'vpn/exec/iks'],
    );
  });

  it('a pod with neither ipsec nor swanctl: both tools are tried, then a finding', async () => {
    const r = await sim
      .withConfig({ cluster: { iks: 'vpn: { strongswan: { selector: app=reviews } }' } })
      .vpn();
    assert.match(
      find(r, 'vpn/strongswan/iks').text,
      /^could not read the tunnel state on iks: neither `ipsec statusall` nor `swanctl --list-sas` exists in default\/reviews-v3-/,
    );
  });

  it('an API server that answers 503: not checked, said per cluster', async () => {
    sim.mesh.faults.setUnavailable('iks', true);
    const r = await sim.vpn();
    assert.equal(r.verdict, 'degraded');
    assert.match(find(r, 'vpn/strongswan/iks').text, /listing pods failed: 503/);
    assert.match(find(r, 'vpn/targets/iks').text, /503/);
  });

  it('compares with the previous run: RTT up, newly failing, recovered', async () => {
    const checks = sim.withConfig({});
    const first = await checks.vpn();
    assert.equal(first.comparison, undefined);

    sim.mesh.faults.setLink('iks', 'icp', { rttMs: 200 });
    const slower = await checks.vpn();
    assert.ok(slower.comparison);
    assert.deepEqual(
      slower.comparison.rttUp.map((c) => c.key).sort(),
      CONTROL_PLANE.map((c) => `iks>icp/${c}`).sort(),
    );
    assert.ok(slower.comparison.rttUp.every((c) => c.percent > 50 && c.afterMs > 150));
    assert.deepEqual(slower.comparison.newlyFailing, []);

    sim.mesh.faults.setTunnel('icp', 'iks', 'down');
    const failing = await checks.vpn();
    assert.equal(failing.comparison?.newlyFailing.length, 6);
    assert.equal(failing.comparison?.previousAt, slower.checkedAt);

    await sim.mesh.faults.reset();
    const back = await checks.vpn();
    assert.equal(back.comparison?.recovered.length, 6);
    assert.deepEqual(back.comparison?.newlyFailing, []);
  });
});

describe('/mesh ping against the simulated seed mesh', () => {
  let sim: VpnSim;
  before(async () => {
    sim = await startVpnSim();
  });
  afterEach(() => sim.mesh.faults.reset());
  after(() => sim.close());

  it('to a cluster: every target of that cluster from one probe pod, with both tunnel sides', async () => {
    const answer = await sim.ping('iks', 'icp');
    assert.ok(answer.ok);
    const r = answer.report;
    assert.deepEqual(r.scope, { kind: 'ping', from: 'iks', target: 'icp' });
    assert.deepEqual(
      r.probes.map((p) => p.key),
      CONTROL_PLANE.map((c) => `iks>icp/${c}`),
    );
    assert.equal(r.verdict, 'healthy');
    assert.deepEqual(
      r.tunnels.map((t) => t.cluster),
      ['icp', 'iks'],
    );
    assert.equal(r.comparison, undefined, 'a single ping is not compared with the matrix');
  });

  it('to a pod IP: the pod is named; a dead tunnel is the verdict', async () => {
    const matrix = await sim.vpn();
    const reviews = probe(matrix, 'icp>iks/reviews-v3').target;
    const answer = await sim.ping('icp', reviews.ip);
    assert.ok(answer.ok);
    assert.equal(answer.report.probes.length, 1);
    assert.equal(answer.report.probes[0]?.target.label, reviews.pod?.name);
    assert.equal(answer.report.probes[0]?.status, 'ok');

    sim.mesh.faults.setTunnel('icp', 'iks', 'down');
    const down = await sim.ping('icp', reviews.ip);
    assert.ok(down.ok);
    assert.equal(down.report.verdict, 'down');
    assert.match(down.report.summary, /^tunnel down on both sides/);
  });

  it('refuses an address outside every configured CIDR that no pod has, and one on the sending cluster', async () => {
    const outside = await sim.ping('iks', '192.0.2.10');
    assert.equal(outside.ok, false);
    assert.match(
      (outside as { refusal: string }).refusal,
      /^192\.0\.2\.10 is not inside a pod or service CIDR of a configured cluster \(icp: 10\.1\.0\.0\/16, 10\.0\.0\.0\/24; iks: 172\.30\.0\.0\/16, 172\.21\.0\.0\/16\) and no pod has that IP: nothing was pinged$/,
    );
    const own = await sim.ping('iks', '172.30.0.9');
    assert.match((own as { refusal: string }).refusal, /is on iks itself/);
  });

  /** A Service's ClusterIP as an SRE reads it with kubectl get svc. */
  const clusterIp = async (cluster: string, namespace: string, name: string) => {
    const core = kubeConfigs(sim.mesh)(cluster).makeApiClient(CoreV1Api);
    return (await core.readNamespacedService({ name, namespace })).spec!.clusterIP!;
  };

  it('to a Service ClusterIP: it answers no ping (kube-proxy in iptables mode), said as such, not blamed on the selectors', async () => {
    const ip = await clusterIp('icp', 'istio-system', 'istio-pilot');
    const answer = await sim.ping('iks', ip);
    assert.ok(answer.ok, (answer as { refusal?: string }).refusal);
    const r = answer.report;
    assert.deepEqual(
      r.probes.map((p) => [p.target.label, p.target.cidr, p.status]),
      [['service address', '10.0.0.0/24', 'lost']],
    );
    assert.equal(r.verdict, 'healthy', r.summary);
    assert.equal(
      r.summary,
      `tunnel up; ${ip} is a Service address on icp (service CIDR 10.0.0.0/24): a ClusterIP answers no ping`,
    );
    assert.deepEqual(ids(r), [`vpn/no-echo/iks>icp/${ip}`]);
    const f = find(r, `vpn/no-echo/iks>icp/${ip}`);
    assert.equal(f.severity, 'info');
    assert.match(
      f.action ?? '',
      /^The tunnel is up and the CHILD SAs on iks and icp carry 10\.0\.0\.0\/24, so this lost ping says nothing about the VPN\. /,
    );
    assert.match(
      f.action ?? '',
      /\/mesh vpn connects from every remote to the TCP ports of icp's control-plane Services/,
    );
    assert.doesNotMatch(f.action ?? '', /subnet/);
  });

  it('to a pod-CIDR address no pod has: nothing there answers; the selectors are not blamed', async () => {
    const ip = '172.30.200.200';
    const core = kubeConfigs(sim.mesh)('iks').makeApiClient(CoreV1Api);
    const holders = await core.listPodForAllNamespaces({ fieldSelector: `status.podIP=${ip}` });
    assert.equal(holders.items.length, 0, 'no pod has the address');
    const answer = await sim.ping('icp', ip);
    assert.ok(answer.ok);
    const r = answer.report;
    assert.equal(r.probes[0]?.status, 'lost');
    assert.equal(r.verdict, 'healthy', r.summary);
    assert.equal(r.summary, `tunnel up; no pod on iks has ${ip}, so nothing there answers the ping`);
    const f = find(r, `vpn/no-echo/icp>iks/${ip}`);
    assert.match(
      f.action ?? '',
      /^The tunnel is up and the CHILD SAs on icp and iks carry 172\.30\.0\.0\/16, /,
    );
    assert.match(f.action ?? '', /\/mesh ping icp iks pings one pod per app there$/);
  });

  it('to a Service ClusterIP whose range the CHILD SAs lack: the subnet to add', async () => {
    const ip = await clusterIp('icp', 'istio-system', 'istio-pilot');
    sim.mesh.faults.setSubnets('iks', 'icp', { remoteSubnets: ['10.1.0.0/16'] });
    const answer = await sim.ping('iks', ip);
    assert.ok(answer.ok);
    const r = answer.report;
    assert.equal(r.verdict, 'down', r.summary);
    assert.ok(!ids(r).some((id) => id.startsWith('vpn/no-echo/')), ids(r).join(', '));
    assert.equal(find(r, 'vpn/direction/iks>icp').action, 'add 10.0.0.0/24 to remote.subnet on iks');
  });

  it('to an address whose pod could not be looked up: the lookup failure is said, and the lost ping is not explained away', async () => {
    sim.mesh.faults.setUnavailable('iks', true);
    const answer = await sim.ping('icp', '172.30.200.200');
    assert.ok(answer.ok);
    const r = answer.report;
    assert.equal(r.verdict, 'down', r.summary);
    assert.match(find(r, 'vpn/targets/iks').text, /^could not list the pods to ping on iks: 503/);
    assert.ok(!ids(r).some((id) => id.startsWith('vpn/no-echo/')), ids(r).join(', '));
    assert.match(
      find(r, 'vpn/direction/icp>iks').action ?? '',
      /^the CHILD SA on icp carries 172\.30\.0\.0\/16, so the traffic selectors are not the cause/,
    );
  });

  it('without CIDRs in the config, a discovered pod IP counts', async () => {
    const bare = sim.withConfig({ cidrs: {} });
    const matrix = await sim.vpn();
    const pilot = probe(matrix, 'iks>icp/pilot').target;
    const answer = await bare.ping('iks', pilot.ip);
    assert.ok(answer.ok, (answer as { refusal?: string }).refusal);
    assert.equal(answer.report.probes[0]?.target.label, pilot.pod?.name);
    assert.equal(answer.report.probes[0]?.target.cidr, undefined);
    const refused = await bare.ping('iks', '10.1.99.99');
    assert.match(
      (refused as { refusal: string }).refusal,
      /icp: none configured; iks: none configured\) and no pod has that IP/,
    );
  });
});
