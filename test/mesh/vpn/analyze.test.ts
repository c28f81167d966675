import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type AnalysisInput, analyze, type ClusterNet, probeStatus } from '../../../src/mesh/vpn/analyze.ts';
import type { PingOutcome } from '../../../src/mesh/vpn/ping.ts';
import type { PeerTunnel, ProbeResult, TunnelSide, VpnSettings } from '../../../src/mesh/vpn/report.ts';
import { parseIpsecStatus } from '../../../src/mesh/vpn/strongswan.ts';
import { peerTunnel } from '../../../src/mesh/vpn/tunnel.ts';

const CLUSTERS: ClusterNet[] = [
  { name: 'icp', role: 'primary', podCidrs: ['10.1.0.0/16'], serviceCidrs: ['10.0.0.0/24'] },
  { name: 'iks', role: 'remote', podCidrs: ['172.30.0.0/16'], serviceCidrs: ['172.21.0.0/16'] },
];
const SETTINGS: VpnSettings = {
  count: 3,
  timeoutMs: 2000,
  concurrency: 16,
  thresholds: { lossPercent: 0, rttWarnMs: 100, rttChangePercent: 50 },
};

const peer = (
  name: string,
  state: PeerTunnel['state'] = 'up',
  gaps: Partial<PeerTunnel> = {},
): PeerTunnel => ({
  peer: name,
  state,
  detail: state,
  missingRemote: [],
  missingLocal: [],
  ...gaps,
});
const side = (cluster: string, view: PeerTunnel): TunnelSide => ({
  cluster,
  ok: true,
  pod: { cluster, namespace: 'default', name: `vpn-${cluster}` },
  tool: 'ipsec',
  argv: ['ipsec', 'statusall'],
  sas: [],
  conns: [],
  peers: [view],
});
const UP = [side('icp', peer('iks')), side('iks', peer('icp'))];
const conn = (localTs: string[], remoteTs: string[]) => ({ name: 'k8s-conn', localTs, remoteTs });

type Stats = Extract<PingOutcome, { kind: 'stats' }>;
const answered = (avg = 50): Stats => ({
  kind: 'stats',
  flavour: 'iputils',
  transmitted: 3,
  received: 3,
  errors: 0,
  lossPercent: 0,
  rtt: { min: avg - 1, avg, max: avg + 1 },
});
const LOST: Stats = {
  kind: 'stats',
  flavour: 'iputils',
  transmitted: 3,
  received: 0,
  errors: 0,
  lossPercent: 100,
};

function probe(
  from: string,
  to: string,
  label: string,
  ip: string,
  outcome: PingOutcome,
  cidr?: string,
): ProbeResult {
  return {
    key: `${from}>${to}/${label}`,
    from,
    probe: { cluster: from, namespace: 'default', name: `vpn-${from}` },
    target: { cluster: to, ip, label, pod: { namespace: 'default', name: label }, ...(cidr ? { cidr } : {}) },
    outcome,
    status: probeStatus(outcome, SETTINGS.thresholds),
  };
}

const input = (over: Partial<AnalysisInput>): AnalysisInput => ({
  clusters: CLUSTERS,
  pairs: [['icp', 'iks']],
  tunnels: UP,
  sources: [],
  probes: [],
  discovery: [],
  skipped: [],
  settings: SETTINGS,
  ...over,
});

const fromIks = (outcome: (label: string) => PingOutcome) =>
  ['pilot', 'policy'].map((label, i) =>
    probe('iks', 'icp', label, `10.1.0.${i + 10}`, outcome(label), '10.1.0.0/16'),
  );
const fromIcp = (outcome: PingOutcome) => [
  probe('icp', 'iks', 'reviews-v3', '172.30.0.5', outcome, '172.30.0.0/16'),
];

describe('analyze: findings with an action, and one verdict', () => {
  it('healthy: no findings; the summary counts the answers and the average RTT', () => {
    const a = analyze(input({ probes: [...fromIks(() => answered(40)), ...fromIcp(answered(70))] }));
    assert.equal(a.verdict, 'healthy');
    assert.deepEqual(a.findings, []);
    assert.equal(a.summary, 'tunnel up; 3 of 3 ping targets answer, avg RTT 50 ms');
  });

  it('one-way ESP from the counters: judged only with a few packets out and none in; both ways said once', () => {
    const traffic = (packetsOut: number, bytesIn: number) => ({
      seconds: 2,
      bytesOut: packetsOut * 84,
      packetsOut,
      bytesIn,
      packetsIn: bytesIn > 0 ? 3 : 0,
    });
    const tunnels = (icp: ReturnType<typeof traffic>, iks: ReturnType<typeof traffic>) => [
      side('icp', peer('iks', 'up', { traffic: icp })),
      side('iks', peer('icp', 'up', { traffic: iks })),
    ];
    const lost = [...fromIks(() => LOST), ...fromIcp(LOST)];
    const oneWay = analyze(input({ tunnels: tunnels(traffic(6, 504), traffic(6, 0)), probes: lost }));
    assert.deepEqual(
      oneWay.findings.filter((f) => f.severity !== 'info').map((f) => f.id),
      ['vpn/esp/iks'],
      'the lost pings are explained',
    );
    assert.match(
      oneWay.findings[0]!.text,
      /^one-way ESP: iks sends 504 bytes to icp but receives nothing back/,
    );
    const both = analyze(input({ tunnels: tunnels(traffic(6, 0), traffic(6, 0)), probes: lost }));
    assert.match(both.findings[0]!.text, /^ESP lost both ways between icp and iks/);
    const early = analyze(
      input({ tunnels: tunnels(traffic(6, 504), traffic(1, 0)), probes: fromIks(() => answered()) }),
    );
    assert.deepEqual(early.findings, [], 'one request out just before the read is not one-way ESP');
  });

  it('a whole direction lost while the other answers', () => {
    const a = analyze(input({ probes: [...fromIks(() => LOST), ...fromIcp(answered())] }));
    assert.equal(a.verdict, 'down');
    assert.deepEqual(a.findings, [
      {
        id: 'vpn/direction/iks>icp',
        area: 'reachability',
        severity: 'critical',
        text: 'pings from iks to icp are lost while icp → iks answers: pilot (10.1.0.10), policy (10.1.0.11)',
        action:
          'the CHILD SAs on iks and icp carry 10.1.0.0/16, so the traffic selectors are not the cause: check the routes into the tunnel on both sides (the strongswan-routes DaemonSet or node routes), then firewalls and network policies that may drop ICMP on the way',
      },
    ]);
  });

  it('with neither CHILD SA read, the selectors are still among the suspects', () => {
    const unread: TunnelSide[] = ['icp', 'iks'].map((cluster) => ({
      cluster,
      ok: false,
      kind: 'failed',
      problem: 'timed out after 5000 ms',
    }));
    const a = analyze(input({ tunnels: unread, probes: [...fromIks(() => LOST), ...fromIcp(answered())] }));
    assert.equal(
      a.findings.find((f) => f.id === 'vpn/direction/iks>icp')?.action,
      'check remote.subnet on iks (it must include 10.1.0.0/16) and the routes into the tunnel on both sides',
    );
  });

  it('a range the CHILD SA lacks: the configuration that lacks it, as ipsec statusall lists them', () => {
    // One CHILD SA, seen from both ends: iks' remote range and icp's local range both lack 10.1.0.0/16.
    const gap = (iksRemote: string[], icpLocal: string[]) => [
      {
        ...side('icp', peer('iks', 'up', { missingLocal: ['10.1.0.0/16'] })),
        conns: [conn(icpLocal, ['172.30.0.0/16'])],
      },
      {
        ...side('iks', peer('icp', 'up', { missingRemote: ['10.1.0.0/16'] })),
        conns: [conn(['172.30.0.0/16'], iksRemote)],
      },
    ];
    const actionOf = (tunnels: TunnelSide[]) =>
      analyze(input({ tunnels, probes: [...fromIks(() => LOST), ...fromIcp(answered())] })).findings.find(
        (f) => f.id === 'vpn/direction/iks>icp',
      )?.action;
    const both = ['10.1.0.0/16', '10.0.0.0/24'];
    assert.equal(actionOf(gap(['10.0.0.0/24'], both)), 'add 10.1.0.0/16 to remote.subnet on iks');
    assert.equal(actionOf(gap(both, ['10.0.0.0/24'])), 'add 10.1.0.0/16 to local.subnet on icp');
    assert.equal(
      actionOf(gap(both, both).map((t) => ({ ...t, conns: [] }))),
      "add 10.1.0.0/16 to remote.subnet on iks and to local.subnet on icp (each side's CHILD SA carries only what both configurations list)",
      'swanctl --list-sas lists no configuration: both places are named',
    );
    const a = analyze(input({ tunnels: gap(['10.0.0.0/24'], both), probes: fromIks(() => LOST) }));
    assert.equal(
      a.findings.find((f) => f.id === 'vpn/subnets/iks/remote')?.text,
      "the CHILD SA on iks does not carry icp's pod CIDR 10.1.0.0/16",
    );
  });

  it('one CIDR lost among several: "replies lost only towards" that range', () => {
    const clusters: ClusterNet[] = [
      { ...CLUSTERS[0]!, podCidrs: ['10.1.0.0/17', '10.1.128.0/17'] },
      CLUSTERS[1]!,
    ];
    const probes = [
      probe('iks', 'icp', 'pilot', '10.1.151.1', answered(), '10.1.128.0/17'),
      probe('iks', 'icp', 'policy', '10.1.25.1', LOST, '10.1.0.0/17'),
      probe('iks', 'icp', 'telemetry', '10.1.26.1', LOST, '10.1.0.0/17'),
      ...fromIcp(answered()),
    ];
    const a = analyze(input({ clusters, probes }));
    assert.equal(a.verdict, 'down');
    assert.deepEqual(
      a.findings.map((f) => [f.id, f.text, f.action]),
      [
        [
          'vpn/cidr/iks>icp/10.1.0.0/17',
          'replies lost only towards 10.1.0.0/17 on icp when pinged from iks: policy (10.1.25.1), telemetry (10.1.26.1)',
          'the CHILD SAs on iks and icp carry 10.1.0.0/17, so the traffic selectors are not the cause: check the routes into the tunnel on both sides (the strongswan-routes DaemonSet or node routes), then firewalls and network policies that may drop ICMP on the way',
        ],
      ],
    );
  });

  it('a target outside the configured CIDRs that never answers asks for the CIDRs', () => {
    const probes = [
      probe('iks', 'icp', 'pilot', '10.1.0.10', answered(), '10.1.0.0/16'),
      probe('iks', 'icp', 'odd', '10.9.0.1', LOST),
      ...fromIcp(answered()),
    ];
    const f = analyze(input({ probes })).findings[0];
    assert.equal(f?.id, 'vpn/cidr/iks>icp/unlisted');
    assert.match(f?.action ?? '', /^list icp's pod CIDRs under clusters\[\]\.podCidrs/);
  });

  it('single pods that do not answer inside a range that does: a warning naming them', () => {
    const probes = [
      probe('iks', 'icp', 'pilot', '10.1.0.10', answered(), '10.1.0.0/16'),
      probe('iks', 'icp', 'policy', '10.1.0.11', LOST, '10.1.0.0/16'),
      ...fromIcp(answered()),
    ];
    const a = analyze(input({ probes }));
    assert.equal(a.verdict, 'degraded');
    assert.equal(a.findings[0]?.id, 'vpn/lost/iks>icp');
    assert.equal(
      a.findings[0]?.text,
      '1 of 2 targets on icp do not answer pings from iks: policy (10.1.0.11)',
    );
  });

  it('IKE up but no CHILD SA: the configured selectors name the side to fix', () => {
    const read = (file: string, own: ClusterNet, other: ClusterNet): TunnelSide => {
      const listing = parseIpsecStatus(
        readFileSync(new URL(`../../fixtures/vpn/captured/${file}`, import.meta.url), 'utf8'),
      );
      assert.ok(listing.ok);
      const cidrs = (c: ClusterNet) => ({ name: c.name, cidrs: [...c.podCidrs, ...c.serviceCidrs] });
      return {
        cluster: own.name,
        ok: true,
        pod: { cluster: own.name, namespace: 'default', name: 'vpn' },
        tool: 'ipsec',
        argv: ['ipsec', 'statusall'],
        sas: listing.sas,
        conns: listing.conns,
        peers: [peerTunnel(listing.sas, listing.conns, cidrs(own), cidrs(other), true)],
      };
    };
    const tunnels = [
      read('ipsec-statusall_half-up_icp.txt', CLUSTERS[0]!, CLUSTERS[1]!),
      read('ipsec-statusall_half-up_iks.txt', CLUSTERS[1]!, CLUSTERS[0]!),
    ];
    const a = analyze(input({ tunnels, probes: [...fromIks(() => LOST), ...fromIcp(LOST)] }));
    assert.deepEqual(a.findings, [
      {
        id: 'vpn/tunnel/iks',
        area: 'tunnel',
        severity: 'critical',
        text: 'IKE up but no CHILD SA on icp and iks — 3 of 3 pings lost',
        action:
          "check remote.subnet on iks: it is 10.9.0.0/16 but icp's local.subnet is 10.0.0.0/24,10.1.0.0/16",
      },
    ]);
  });

  it('partial loss above the threshold and slow round trips are warnings', () => {
    const lossy: PingOutcome = { ...answered(), received: 2, lossPercent: 33.3 };
    const a = analyze(
      input({ probes: [...fromIks((l) => (l === 'pilot' ? lossy : answered(180))), ...fromIcp(answered())] }),
    );
    assert.equal(a.verdict, 'degraded');
    assert.deepEqual(
      a.findings.map((f) => [f.id, f.text]),
      [
        ['vpn/loss/iks>icp', 'packet loss from iks to icp: pilot (10.1.0.10) 33.3%'],
        ['vpn/rtt/iks>icp', 'slow from iks to icp: policy (10.1.0.11) avg 180 ms'],
      ],
    );
    const tolerant = analyze(
      input({
        settings: { ...SETTINGS, thresholds: { ...SETTINGS.thresholds, lossPercent: 50, rttWarnMs: 200 } },
        probes: [],
      }),
    );
    assert.equal(tolerant.verdict, 'healthy');
    assert.equal(probeStatus(lossy, { ...SETTINGS.thresholds, lossPercent: 50 }), 'ok');
  });

  it('what could not be looked at is a warning, never healthy; nothing at all is "failed"', () => {
    const forbidden: TunnelSide = {
      cluster: 'iks',
      ok: false,
      kind: 'forbidden',
      problem: '403 Forbidden: exec is not allowed',
    };
    const execFailed = (p: ProbeResult): ProbeResult => ({
      ...p,
      outcome: { kind: 'exec-failed', reason: '403 Forbidden: exec is not allowed', forbidden: true },
      status: 'error',
    });
    const a = analyze(
      input({
        tunnels: [UP[0]!, forbidden],
        probes: [...fromIks(() => answered()).map(execFailed), ...fromIcp(answered())],
      }),
    );
    assert.equal(a.verdict, 'degraded');
    assert.deepEqual(
      a.findings.map((f) => f.id),
      ['vpn/exec/iks'],
      'one finding for the tunnel read and the pings',
    );

    const nothing = analyze(input({ tunnels: [{ ...forbidden, cluster: 'icp' }, forbidden], probes: [] }));
    assert.equal(nothing.verdict, 'failed');
  });

  it('unparsed output is attached raw; ping errors name the reason', () => {
    const odd: PingOutcome = {
      kind: 'unparsed',
      reason: 'no ping statistics in the output',
      raw: 'PING 10.1.0.10 …',
    };
    const noRoute: PingOutcome = { kind: 'error', reason: 'Network is unreachable' };
    const daemon: TunnelSide = {
      cluster: 'iks',
      ok: false,
      kind: 'unparsed',
      problem: 'unexpected line',
      raw: 'garbage',
    };
    const a = analyze(
      input({
        tunnels: [UP[0]!, daemon],
        probes: [...fromIks((l) => (l === 'pilot' ? odd : noRoute)), ...fromIcp(answered())],
      }),
    );
    const byId = new Map(a.findings.map((f) => [f.id, f]));
    assert.equal(byId.get('vpn/unparsed/iks/tunnel')?.raw, 'garbage');
    assert.equal(byId.get('vpn/unparsed/iks>icp')?.raw, 'PING 10.1.0.10 …');
    assert.equal(
      byId.get('vpn/error/iks>icp')?.text,
      'ping from iks to icp failed: policy (10.1.0.11): Network is unreachable',
    );
    assert.equal(a.verdict, 'down');
  });

  it('a strongSwan daemon that is not running is critical; skipped components are only info', () => {
    const stopped: TunnelSide = {
      cluster: 'iks',
      ok: false,
      kind: 'no-daemon',
      problem: 'the strongSwan daemon is not running',
    };
    const a = analyze(
      input({
        tunnels: [UP[0]!, stopped],
        probes: fromIcp(answered()),
        skipped: ['no ready tracing pod on icp'],
      }),
    );
    assert.equal(a.verdict, 'down');
    assert.deepEqual(
      a.findings.map((f) => [f.id, f.severity]),
      [
        ['vpn/strongswan/iks', 'critical'],
        ['vpn/skipped/0', 'info'],
      ],
    );
    const onlyInfo = analyze(
      input({ probes: fromIcp(answered()), skipped: ['no ready tracing pod on icp'] }),
    );
    assert.equal(onlyInfo.verdict, 'healthy');
  });
});

describe('analyze: counts in words', () => {
  it('a routes DaemonSet that wants one pod and has none: "wants 1 pod, but 1 of its nodes has none"', () => {
    const a = analyze(
      input({
        probes: [...fromIks(() => answered()), ...fromIcp(answered())],
        routes: [
          {
            cluster: 'iks',
            ok: true,
            daemonSet: 'vpn-strongswan-routes',
            desired: 1,
            ready: 0,
            nodesWithout: [],
            unscheduled: 1,
          },
        ],
      }),
    );
    assert.equal(
      a.findings.find((f) => f.id === 'vpn/routes/iks/unscheduled')?.text,
      'vpn-strongswan-routes on iks wants 1 pod, but 1 of its nodes has none: pods there have no route into the tunnel',
    );
  });
});

describe('analyze: /mesh ping to an address that answers no ping', () => {
  /** One ping, as `/mesh ping <from> <IPv4>` sends it to an address no pod had when looked up. */
  const address = (
    from: string,
    to: string,
    ip: string,
    cidr: string,
    outcome: PingOutcome,
  ): ProbeResult => ({
    ...probe(from, to, 'address', ip, outcome, cidr),
    target: { cluster: to, ip, label: 'address', cidr },
  });

  it('a Service ClusterIP on the primary: info, not the selectors; /mesh vpn checks its ports', () => {
    const a = analyze(input({ probes: [address('iks', 'icp', '10.0.0.12', '10.0.0.0/24', LOST)] }));
    assert.equal(a.verdict, 'healthy');
    assert.deepEqual(a.findings, [
      {
        id: 'vpn/no-echo/iks>icp/10.0.0.12',
        area: 'reachability',
        severity: 'info',
        text: '10.0.0.12 is a Service address on icp (service CIDR 10.0.0.0/24): a ClusterIP answers no ping',
        action:
          "The tunnel is up and the CHILD SAs on iks and icp carry 10.0.0.0/24, so this lost ping says nothing about the VPN. kube-proxy forwards only a Service's own ports to its pods (in iptables and nftables mode; in IPVS mode the node answers pings). Check a port instead: /mesh vpn connects from every remote to the TCP ports of icp's control-plane Services; /mesh ping iks icp pings its control-plane pods",
      },
    ]);
    assert.equal(
      a.summary,
      'tunnel up; 10.0.0.12 is a Service address on icp (service CIDR 10.0.0.0/24): a ClusterIP answers no ping',
    );
  });

  it('a Service ClusterIP on a remote: nc from a pod names the way to check it', () => {
    const a = analyze(input({ probes: [address('icp', 'iks', '172.21.3.4', '172.21.0.0/16', LOST)] }));
    assert.match(
      a.findings[0]?.action ?? '',
      /Check a port instead: `nc -z 172\.21\.3\.4 <port>` from a pod on icp; \/mesh ping icp iks pings one pod per app there$/,
    );
  });

  it('an address in a pod CIDR that no pod has: nothing there answers', () => {
    const a = analyze(input({ probes: [address('icp', 'iks', '172.30.200.200', '172.30.0.0/16', LOST)] }));
    assert.equal(a.verdict, 'healthy');
    assert.deepEqual(
      a.findings.map((f) => [f.id, f.severity, f.text, f.action]),
      [
        [
          'vpn/no-echo/icp>iks/172.30.200.200',
          'info',
          'no pod on iks has 172.30.200.200, so nothing there answers the ping',
          "The tunnel is up and the CHILD SAs on icp and iks carry 172.30.0.0/16, so this lost ping says nothing about the VPN. Ping a pod's IP instead (`kubectl get pods -o wide` on iks lists them); /mesh ping icp iks pings one pod per app there",
        ],
      ],
    );
  });

  it('one CHILD SA read is enough to say the range is carried; none read, the VPN is not vouched for', () => {
    const oneRead = [side('icp', peer('iks'))];
    const one = analyze(
      input({ tunnels: oneRead, probes: [address('icp', 'iks', '172.21.3.4', '172.21.0.0/16', LOST)] }),
    );
    assert.match(
      one.findings[0]?.action ?? '',
      /^The tunnel is up and the CHILD SA on icp carries 172\.21\.0\.0\/16, /,
    );
    const none = analyze(
      input({ tunnels: [], probes: [address('icp', 'iks', '172.21.3.4', '172.21.0.0/16', LOST)] }),
    );
    assert.match(none.findings[0]?.action ?? '', /^kube-proxy forwards only a Service's own ports/);
  });

  it('when the pod lookup failed, an unanswered address is not explained away', () => {
    const a = analyze(
      input({
        probes: [address('icp', 'iks', '172.30.200.200', '172.30.0.0/16', LOST)],
        discovery: [{ cluster: 'iks', problem: 'timed out after 5000 ms' }],
      }),
    );
    assert.equal(a.verdict, 'down');
    assert.deepEqual(
      a.findings.map((f) => f.id),
      ['vpn/direction/icp>iks', 'vpn/targets/iks'],
    );
  });

  it('a Service range the CHILD SA lacks: the subnet to add, since that keeps its ports out of the tunnel too', () => {
    const gap = [
      {
        ...side('icp', peer('iks', 'up', { missingLocal: ['10.0.0.0/24'] })),
        conns: [conn(['10.1.0.0/16', '10.0.0.0/24'], ['172.30.0.0/16'])],
      },
      {
        ...side('iks', peer('icp', 'up', { missingRemote: ['10.0.0.0/24'] })),
        conns: [conn(['172.30.0.0/16'], ['10.1.0.0/16'])],
      },
    ];
    const a = analyze(
      input({ tunnels: gap, probes: [address('iks', 'icp', '10.0.0.12', '10.0.0.0/24', LOST)] }),
    );
    assert.equal(a.verdict, 'down');
    assert.equal(
      a.findings.find((f) => f.id === 'vpn/direction/iks>icp')?.action,
      'add 10.0.0.0/24 to remote.subnet on iks',
    );
    assert.ok(!a.findings.some((f) => f.id.startsWith('vpn/no-echo/')));
  });

  it('an address that does answer is just a healthy ping', () => {
    const a = analyze(input({ probes: [address('iks', 'icp', '10.0.0.12', '10.0.0.0/24', answered(52))] }));
    assert.deepEqual(a.findings, []);
    assert.equal(a.summary, 'tunnel up; 1 of 1 ping targets answer, avg RTT 52 ms');
  });
});
