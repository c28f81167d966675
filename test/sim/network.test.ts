import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Location, Network, type NetworkSpec, narrow } from '../../src/sim/net/network.ts';

const holders: Record<string, Location> = {
  '10.1.0.5': {
    cluster: 'icp',
    kind: 'pod',
    nodeName: 'icp-1',
    ports: [
      { port: 15010, protocol: 'TCP' },
      { port: 9125, protocol: 'UDP' },
    ],
  },
  '10.1.0.6': { cluster: 'icp', kind: 'pod', nodeName: 'icp-2' },
  '172.30.0.9': { cluster: 'iks', kind: 'pod', nodeName: 'iks-1' },
  '198.51.100.50': { cluster: 'icp', kind: 'external' },
};

const spec: NetworkSpec = {
  sameClusterRttMs: 0.08,
  externalRttMs: 24,
  tunnels: [
    {
      between: ['icp', 'iks'],
      conn: 'k8s-conn',
      rttMs: 50,
      establishedSecondsAgo: 60,
      sides: {
        icp: {
          auto: 'start',
          localId: 'a',
          remoteId: 'b',
          gateway: '198.51.100.20',
          localSubnets: ['10.1.0.0/16'],
          remoteSubnets: ['172.30.0.0/16'],
          state: 'up',
        },
        iks: {
          auto: 'add',
          localId: 'b',
          remoteId: 'a',
          gateway: '203.0.113.10',
          localSubnets: ['172.30.0.0/16'],
          remoteSubnets: ['10.1.0.0/16'],
          state: 'up',
        },
      },
    },
  ],
};

const network = (clock: () => number = Date.now) => new Network(spec, { locate: (ip) => holders[ip] }, clock);

describe('network model', () => {
  it('routes inside a cluster without the tunnel: ttl 64 on the same node, 63 across nodes', () => {
    const n = network();
    assert.deepEqual(n.route('icp', 'icp-1', '10.1.0.6', '10.1.0.5'), {
      reachable: true,
      ttl: 64,
      rttMs: 0.08,
      lossOut: 0,
      lossBack: 0,
    });
    assert.equal((n.route('icp', 'icp-2', '10.1.0.6', '10.1.0.5') as { ttl: number }).ttl, 63);
  });

  it('crosses the tunnel only when both sides are up and the selectors cover both ends', () => {
    const n = network();
    assert.deepEqual(n.route('iks', 'iks-1', '172.30.0.9', '10.1.0.5'), {
      reachable: true,
      ttl: 62,
      rttMs: 50,
      lossOut: 0,
      lossBack: 0,
      tunnel: { from: 'iks', to: 'icp' },
    });
    n.setTunnel('icp', 'iks', 'half-up', 'icp');
    assert.deepEqual(n.route('iks', 'iks-1', '172.30.0.9', '10.1.0.5'), { reachable: false });
    n.setTunnel('icp', 'iks', 'up');
    // A source outside the peer's remote subnets gets no reply through the CHILD SA.
    assert.deepEqual(n.route('iks', 'iks-1', '172.31.0.1', '10.1.0.5'), { reachable: false });
  });

  it('takes loss and RTT per direction, the most specific CIDR first', () => {
    const n = network();
    n.setLink('iks', 'icp', { lossPct: 20, rttMs: 80 });
    n.setLink('iks', 'icp', { lossPct: 100 }, '10.1.0.0/24');
    n.setLink('iks', 'icp', { lossPct: 50 }, '10.1.0.0/16');
    n.setLink('icp', 'iks', { lossPct: 10 });
    const r = n.route('iks', 'iks-1', '172.30.0.9', '10.1.0.5');
    assert.deepEqual(r, {
      reachable: true,
      ttl: 62,
      rttMs: 80,
      lossOut: 1,
      lossBack: 0.1,
      tunnel: { from: 'iks', to: 'icp' },
    });
  });

  it('answers for unknown addresses with nothing, and for LoadBalancer addresses from anywhere', () => {
    const n = network();
    assert.deepEqual(n.route('iks', 'iks-1', '172.30.0.9', '10.1.9.9'), { reachable: false });
    assert.equal(n.route('iks', 'iks-1', '172.30.0.9', '198.51.100.50').reachable, true);
  });

  it('restarts the SA clock when a side comes back up', () => {
    const n = network();
    const before = n.sidesOf('iks')[0]!.establishedAt;
    n.setTunnel('icp', 'iks', 'down');
    n.setTunnel('icp', 'iks', 'up');
    assert.ok(n.sidesOf('iks')[0]!.establishedAt > before);
    n.reset();
    assert.equal(n.sidesOf('icp')[0]!.side.state, 'up');
  });

  it('counts ESP both ways on each side; with ESP dropped one way the receiver stops counting in', () => {
    let now = 1_000_000;
    const n = network(() => now);
    const start = { icp: n.counters('icp', 'iks'), iks: n.counters('iks', 'icp') };
    // 60 s of background traffic since the SA was established, 3 packets a second each way.
    assert.equal(start.icp.packetsOut, 180);
    assert.equal(start.iks.packetsIn, 180);
    n.setEspBlocked('icp', 'iks', true);
    now += 10_000;
    assert.equal(n.carry('icp', 'iks', 84, false), false, 'ESP from icp never arrives');
    assert.equal(n.carry('iks', 'icp', 84, false), true);
    const icp = n.counters('icp', 'iks');
    const iks = n.counters('iks', 'icp');
    assert.ok(icp.bytesOut > start.icp.bytesOut, 'icp keeps sending');
    assert.equal(iks.bytesIn, start.iks.bytesIn, 'iks receives nothing');
    assert.ok(iks.bytesOut > start.iks.bytesOut && icp.bytesIn > start.icp.bytesIn, 'the other way works');
  });

  it('drops DF packets above the path MTU without a word; without DF they pass', () => {
    const n = network();
    n.setPathMtu('iks', 'icp', 1300);
    assert.equal(n.carry('iks', 'icp', 1301, true), false);
    assert.equal(n.carry('iks', 'icp', 1300, true), true);
    assert.equal(n.carry('iks', 'icp', 1400, false), true);
    assert.equal(n.carry('icp', 'iks', 1400, true), true, 'only that direction');
  });

  it('connects TCP where something listens, refuses elsewhere, times out through a TCP firewall', () => {
    const n = network();
    const tcp = (port: number) => ({ port, protocol: 'TCP' as const });
    assert.equal(n.connect('iks', 'iks-1', '172.30.0.9', '10.1.0.5', tcp(15010)), 'open');
    assert.equal(n.connect('iks', 'iks-1', '172.30.0.9', '10.1.0.5', tcp(15011)), 'refused');
    assert.equal(
      n.connect('iks', 'iks-1', '172.30.0.9', '10.1.0.5', { port: 9125, protocol: 'UDP' }),
      'open',
    );
    n.setTcpBlocked('iks', 'icp', true);
    assert.equal(n.connect('iks', 'iks-1', '172.30.0.9', '10.1.0.5', tcp(15010)), 'timeout');
    assert.equal(
      n.connect('iks', 'iks-1', '172.30.0.9', '10.1.0.5', { port: 9125, protocol: 'UDP' }),
      'open',
    );
    assert.equal(n.route('iks', 'iks-1', '172.30.0.9', '10.1.0.5').reachable, true, 'ICMP still passes');
    n.setTunnel('icp', 'iks', 'down');
    assert.equal(n.connect('iks', 'iks-1', '172.30.0.9', '10.1.0.5', tcp(15010)), 'unreachable');
  });

  it('narrows the CHILD SA selectors to what both sides list', () => {
    assert.deepEqual(narrow(['10.0.0.0/24', '10.1.0.0/16'], ['10.1.0.0/16']), ['10.1.0.0/16']);
    assert.deepEqual(narrow(['10.0.0.0/8'], ['10.1.0.0/16', '10.0.0.0/24']), ['10.0.0.0/24', '10.1.0.0/16']);
    const n = network();
    n.setSubnets('iks', 'icp', { remoteSubnets: ['10.1.0.0/24'] });
    assert.deepEqual(n.childSelectors('icp', 'iks'), { local: ['10.1.0.0/24'], remote: ['172.30.0.0/16'] });
    assert.equal(n.route('iks', 'iks-1', '172.30.0.9', '10.1.0.5').reachable, true);
    assert.equal(n.route('iks', 'iks-1', '172.30.0.9', '10.1.1.5').reachable, false);
  });
});
