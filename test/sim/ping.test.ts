import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/sim/cluster/ids.ts';
import { getopt, parsePingArgs, pingProgram } from '../../src/sim/commands/ping.ts';
import { busybox, iputils, type PingReply } from '../../src/sim/commands/ping-output.ts';
import type { ExecContext, Output } from '../../src/sim/commands/types.ts';
import type { SimControlPlane } from '../../src/sim/istio/control-plane.ts';
import type { Network, Route } from '../../src/sim/net/network.ts';
import { fixture } from './helpers.ts';

const replies = (ttl: number, ...times: number[]): PingReply[] =>
  times.map((timeMs, index) => ({ index, ttl, timeMs }));

function render(
  format: typeof iputils,
  target: string,
  transmitted: number,
  rs: PingReply[],
  elapsedMs: number,
  quiet = false,
) {
  return (
    format.header(target, target, 56) +
    (quiet ? '' : rs.map((r) => format.reply(target, 56, r)).join('')) +
    format.summary({ target, transmitted, replies: rs, elapsedMs })
  );
}

describe('ping output renderers against real captures', () => {
  it('iputils: replies and statistics', () => {
    const text = render(iputils, '10.1.14.30', 3, replies(64, 0.052, 0.052, 0.055), 2029);
    assert.equal(text, fixture('ping/iputils_success_10.1.14.30.txt'));
  });

  it('iputils: total loss ends with a bare line and no rtt', () => {
    assert.equal(
      render(iputils, '10.1.14.30', 3, [], 2051),
      fixture('ping/iputils_100pct-loss_10.1.14.30.txt'),
    );
    assert.equal(
      render(iputils, '10.1.14.30', 5, [], 4077),
      fixture('ping/iputils_100pct-loss_deadline-w5_10.1.14.30.txt'),
    );
  });

  it('iputils: -q keeps header and statistics, with its integer mdev', () => {
    const text = render(iputils, '127.0.0.1', 2, replies(64, 0.026, 0.031), 1025, true);
    assert.equal(text, fixture('ping/iputils_quiet_127.0.0.1.txt'));
  });

  it('iputils: fewer decimals for longer times, %g loss', () => {
    assert.match(
      iputils.reply('10.1.0.5', 56, { index: 0, ttl: 62, timeMs: 51.83 }),
      /icmp_seq=1 ttl=62 time=51.8 ms/,
    );
    assert.match(iputils.reply('10.1.0.5', 56, { index: 0, ttl: 62, timeMs: 1.234 }), /time=1.23 ms/);
    assert.match(iputils.reply('10.1.0.5', 56, { index: 0, ttl: 62, timeMs: 123.4 }), /time=123 ms/);
    const third = iputils.summary({
      target: 'x',
      transmitted: 3,
      replies: replies(62, 50, 50),
      elapsedMs: 2002,
    });
    assert.match(third, /3 packets transmitted, 2 received, 33.3333% packet loss, time 2002ms/);
  });

  it('busybox: seq from 0, "packets received", round-trip without mdev', () => {
    assert.equal(
      render(busybox, '127.0.0.1', 3, replies(64, 0.054, 0.067, 0.059), 0),
      fixture('ping/busybox_success_127.0.0.1.txt'),
    );
    assert.equal(
      render(busybox, '127.0.0.1', 2, replies(64, 0.075, 0.087), 0, true),
      fixture('ping/busybox_quiet_127.0.0.1.txt'),
    );
  });
});

describe('ping arguments like the real binaries', () => {
  it('getopt handles clustered, attached and permuted options', () => {
    assert.deepEqual(getopt(['-qc3', '10.1.0.5', '-W', '2'], 'qc:W:'), {
      options: [
        ['q', undefined],
        ['c', '3'],
        ['W', '2'],
      ],
      operands: ['10.1.0.5'],
    });
  });

  it('iputils errors: usage, bad numbers, missing destination, names', () => {
    const invalid = parsePingArgs(['-z', '127.0.0.1'], 'iputils');
    assert.equal(invalid.ok, false);
    if (!invalid.ok) {
      assert.equal(invalid.exitCode, 2);
      assert.equal(
        invalid.output.map((o) => o.text).join(''),
        fixture('ping/iputils_invalid-option_usage.txt'),
      );
    }
    const cases: [string[], number, string][] = [
      [['-c', 'abc', '1.2.3.4'], 1, "ping: invalid argument: 'abc'\n"],
      [
        ['-c', '0', '1.2.3.4'],
        1,
        "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n",
      ],
      [['-c', '1'], 1, 'ping: usage error: Destination address required\n'],
      [['-c', '1', 'no-such-host.invalid'], 2, fixture('ping/iputils_error_name-not-known.txt')],
      [['-c', '1', '10.1.0.1; rm -rf /'], 2, 'ping: 10.1.0.1; rm -rf /: Name or service not known\n'],
    ];
    for (const [args, exitCode, text] of cases) {
      const parsed = parsePingArgs(args, 'iputils');
      assert.deepEqual(parsed, { ok: false, exitCode, output: [{ stream: 'stderr', text }] }, args.join(' '));
    }
  });

  it('busybox errors differ: exit 1 and its own texts', () => {
    assert.deepEqual(parsePingArgs(['-c', 'abc', '1.2.3.4'], 'busybox'), {
      ok: false,
      exitCode: 1,
      output: [{ stream: 'stderr', text: "ping: invalid number 'abc'\n" }],
    });
    assert.deepEqual(parsePingArgs(['-c', '1', 'nohost'], 'busybox'), {
      ok: false,
      exitCode: 1,
      output: [{ stream: 'stderr', text: "ping: bad address 'nohost'\n" }],
    });
  });
});

function context(route: Route): ExecContext {
  const network = { route: () => route, answersPing: () => true } as unknown as Network;
  return {
    cluster: 'iks',
    pod: { metadata: { name: 'p' }, status: { podIP: '172.30.0.9' }, spec: { nodeName: 'n1' } },
    container: 'p',
    traits: { ping: 'iputils', strongswan: false, strongswanFrontEnd: 'stroke' },
    network,
    controlPlane: {} as SimControlPlane,
    random: seededRandom('test'),
    now: Date.now,
    wait: async () => {},
  };
}

async function run(flavour: 'iputils' | 'busybox', args: string[], route: Route) {
  const gen = pingProgram(flavour)(args, context(route));
  const out: Output[] = [];
  let step = await gen.next();
  while (!step.done) {
    out.push(step.value);
    step = await gen.next();
  }
  return { text: out.map((o) => o.text).join(''), exitCode: step.value };
}

describe('ping over the network model', () => {
  const up: Route = { reachable: true, ttl: 62, rttMs: 50, lossOut: 0, lossBack: 0 };

  it('answers every packet through an up tunnel (exit 0)', async () => {
    const r = await run('iputils', ['-c', '3', '10.1.0.5'], up);
    assert.equal(r.exitCode, 0);
    assert.equal(
      r.text.match(/^64 bytes from 10\.1\.0\.5: icmp_seq=\d ttl=62 time=\d+\.\d ms$/gm)?.length,
      3,
    );
    assert.match(
      r.text,
      /3 packets transmitted, 3 received, 0% packet loss, time 20\d\dms\nrtt min\/avg\/max\/mdev = /,
    );
  });

  it('loses everything when unreachable (exit 1), and keeps sending until -w', async () => {
    const down: Route = { reachable: false };
    const r = await run('iputils', ['-c', '3', '-w', '5', '10.1.0.5'], down);
    assert.equal(r.exitCode, 1);
    assert.match(r.text, /5 packets transmitted, 0 received, 100% packet loss, time 40\d\dms\n\n$/);
  });

  it('exits 1 under -w when fewer replies than -c arrived', async () => {
    const lossy: Route = { ...up, lossOut: 0.5 };
    const r = await run('iputils', ['-c', '20', '-w', '5', '10.1.0.5'], lossy);
    assert.equal(r.exitCode, 1);
  });

  it('prints BusyBox format', async () => {
    const r = await run('busybox', ['-c', '2', '10.1.0.5'], up);
    assert.equal(r.exitCode, 0);
    assert.match(
      r.text,
      /^PING 10\.1\.0\.5 \(10\.1\.0\.5\): 56 data bytes\n64 bytes from 10\.1\.0\.5: seq=0 ttl=62 time=\d+\.\d{3} ms\n/,
    );
    assert.match(
      r.text,
      /2 packets transmitted, 2 packets received, 0% packet loss\nround-trip min\/avg\/max = /,
    );
  });
});
