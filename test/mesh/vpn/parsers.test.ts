import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ExecResult } from '../../../src/kube/cluster.ts';
import { type PingOutcome, parsePing, pingArgv } from '../../../src/mesh/vpn/ping.ts';
import {
  parseIpsecStatus,
  parseSwanctlSas,
  readTunnel,
  type SaListing,
  type TunnelReading,
} from '../../../src/mesh/vpn/strongswan.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/vpn/', import.meta.url));

/** Exit codes as recorded at capture time (captured/index.tsv, shared/ping/generated/index.json). */
function exitCodes(): Map<string, number> {
  const codes = new Map<string, number>();
  for (const line of readFileSync(join(FIXTURES, 'captured/index.tsv'), 'utf8').trim().split('\n').slice(1)) {
    const [file, code] = line.split('\t');
    codes.set(`captured/${file}`, Number(code));
  }
  const generated = JSON.parse(readFileSync(join(FIXTURES, 'shared/ping/generated/index.json'), 'utf8')) as {
    captures: { file: string; exit_code: number }[];
  };
  for (const c of generated.captures) codes.set(`shared/ping/generated/${c.file}`, c.exit_code);
  return codes;
}

function fixture(path: string, exitCode: number): ExecResult {
  const stderrPath = join(FIXTURES, `${path}.stderr`);
  return {
    stdout: readFileSync(join(FIXTURES, path), 'utf8'),
    stderr: existsSync(stderrPath) ? readFileSync(stderrPath, 'utf8') : '',
    exitCode,
  };
}

function allTextFixtures(dir: string): string[] {
  return readdirSync(join(FIXTURES, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.txt'))
    .map((f) => `${dir}/${f}`)
    .sort();
}

const isPing = (file: string) => /(^|\/)(iputils|busybox)_[^/]*$/.test(file);

const stats = (
  flavour: 'iputils' | 'busybox',
  transmitted: number,
  received: number,
  lossPercent: number,
  rtt?: [number, number, number],
  errors = 0,
): PingOutcome => ({
  kind: 'stats',
  flavour,
  transmitted,
  received,
  errors,
  lossPercent,
  ...(rtt ? { rtt: { min: rtt[0], avg: rtt[1], max: rtt[2] } } : {}),
});

/** Every ping fixture and what it must parse to; public excerpts carry the exit code ping gives for that output. */
const PING: Record<
  string,
  { exit?: number; expect: PingOutcome | { kind: 'unparsed' | 'error'; reason: RegExp } }
> = {
  'captured/iputils_c3_W2_success_127.0.0.1.txt': {
    expect: stats('iputils', 3, 3, 0, [0.037, 0.104, 0.234]),
  },
  'captured/iputils_c3_W2_success_127.0.0.2.txt': {
    expect: stats('iputils', 3, 3, 0, [0.043, 0.093, 0.193]),
  },
  'captured/iputils_c1_W1_success_127.0.0.1.txt': {
    expect: stats('iputils', 1, 1, 0, [0.174, 0.174, 0.174]),
  },
  'captured/iputils_c4_W2_50pct-loss_127.0.0.1.txt': {
    expect: stats('iputils', 4, 2, 50, [0.04, 0.042, 0.044]),
  },
  'captured/iputils_c3_W2_100pct-loss_127.0.0.1.txt': { expect: stats('iputils', 3, 0, 100) },
  'captured/iputils_c3_W2_100pct-loss_lo-down_127.0.0.1.txt': { expect: stats('iputils', 3, 0, 100) },
  'captured/busybox_c3_W2_success_127.0.0.1.txt': {
    expect: stats('busybox', 3, 3, 0, [0.061, 0.114, 0.217]),
  },
  'captured/busybox_c3_W2_success_127.0.0.2.txt': { expect: stats('busybox', 3, 3, 0, [0.06, 0.146, 0.312]) },
  'captured/busybox_c1_W1_success_127.0.0.1.txt': {
    expect: stats('busybox', 1, 1, 0, [0.235, 0.235, 0.235]),
  },
  'captured/busybox_c4_W2_50pct-loss_127.0.0.1.txt': {
    expect: stats('busybox', 4, 2, 50, [0.064, 0.066, 0.068]),
  },
  'captured/busybox_c3_W2_100pct-loss_127.0.0.1.txt': { expect: stats('busybox', 3, 0, 100) },
  'captured/busybox_c3_W2_100pct-loss_lo-down_127.0.0.1.txt': { expect: stats('busybox', 3, 0, 100) },
  'captured/busybox_c3_W2_bad-address.txt': {
    expect: { kind: 'error', reason: /^bad address 'no-such-host\.invalid'$/ },
  },
  'shared/ping/generated/iputils_success_127.0.0.1.txt': {
    expect: stats('iputils', 3, 3, 0, [0.037, 0.051, 0.069]),
  },
  'shared/ping/generated/iputils_success_10.1.14.30.txt': {
    expect: stats('iputils', 3, 3, 0, [0.052, 0.053, 0.055]),
  },
  'shared/ping/generated/iputils_100pct-loss_10.1.14.30.txt': { expect: stats('iputils', 3, 0, 100) },
  'shared/ping/generated/iputils_100pct-loss_W1_10.1.14.30.txt': { expect: stats('iputils', 3, 0, 100) },
  'shared/ping/generated/iputils_100pct-loss_deadline-w5_10.1.14.30.txt': {
    expect: stats('iputils', 5, 0, 100),
  },
  'shared/ping/generated/iputils_100pct-loss_host-unreachable-errors_192.0.2.77.txt': {
    expect: stats('iputils', 3, 0, 100, undefined, 3),
  },
  'shared/ping/generated/iputils_error_network-unreachable.txt': {
    expect: { kind: 'error', reason: /^Network is unreachable$/ },
  },
  'shared/ping/generated/iputils_error_name-resolution.txt': {
    expect: { kind: 'error', reason: /Temporary failure in name resolution/ },
  },
  // Stopped with ^C after three replies: iputils still prints the statistics and exits 0.
  'shared/ping/public/iputils_success_over-ipsec_ctrl-c_ibm-solution-tutorial.txt': {
    exit: 0,
    expect: stats('iputils', 3, 3, 0, [99.415, 99.462, 99.502]),
  },
  // A doc excerpt cut after one reply: no statistics, so no verdict.
  'shared/ping/public/iputils_truncated_istio-io-iks-icp.txt': {
    exit: 0,
    expect: { kind: 'unparsed', reason: /no ping statistics/ },
  },
};

type SaExpect = 'none' | { state: string; children: string[]; localTs?: string[]; remoteTs?: string[] }[];

/** Every strongSwan fixture: its tool and the IKE SAs (state, CHILD states) it must parse to, or a failure. */
const STRONGSWAN: Record<string, { parser: 'ipsec' | 'swanctl'; expect: SaExpect | RegExp }> = {
  'captured/ipsec-status_up_icp.txt': {
    parser: 'ipsec',
    expect: [
      {
        state: 'ESTABLISHED',
        children: ['INSTALLED'],
        localTs: ['10.0.0.0/24', '10.1.0.0/16'],
        remoteTs: ['172.21.0.0/16', '172.30.0.0/16'],
      },
    ],
  },
  'captured/ipsec-status_up_iks.txt': {
    parser: 'ipsec',
    expect: [
      {
        state: 'ESTABLISHED',
        children: ['INSTALLED'],
        localTs: ['172.21.0.0/16', '172.30.0.0/16'],
        remoteTs: ['10.0.0.0/24', '10.1.0.0/16'],
      },
    ],
  },
  'captured/ipsec-statusall_up_icp.txt': {
    parser: 'ipsec',
    expect: [{ state: 'ESTABLISHED', children: ['INSTALLED'], remoteTs: ['172.21.0.0/16', '172.30.0.0/16'] }],
  },
  'captured/ipsec-statusall_up_iks.txt': {
    parser: 'ipsec',
    expect: [{ state: 'ESTABLISHED', children: ['INSTALLED'], remoteTs: ['10.0.0.0/24', '10.1.0.0/16'] }],
  },
  'captured/swanctl-list-sas_up_icp.txt': {
    parser: 'swanctl',
    expect: [
      {
        state: 'ESTABLISHED',
        children: ['INSTALLED'],
        localTs: ['10.0.0.0/24', '10.1.0.0/16'],
        remoteTs: ['172.21.0.0/16', '172.30.0.0/16'],
      },
    ],
  },
  'captured/swanctl-list-sas_up_iks.txt': {
    parser: 'swanctl',
    expect: [{ state: 'ESTABLISHED', children: ['INSTALLED'], localTs: ['172.21.0.0/16', '172.30.0.0/16'] }],
  },
  'captured/ipsec-status_half-up_icp.txt': {
    parser: 'ipsec',
    expect: [{ state: 'ESTABLISHED', children: [] }],
  },
  'captured/ipsec-status_half-up_iks.txt': {
    parser: 'ipsec',
    expect: [{ state: 'ESTABLISHED', children: [] }],
  },
  'captured/ipsec-statusall_half-up_icp.txt': {
    parser: 'ipsec',
    expect: [{ state: 'ESTABLISHED', children: [] }],
  },
  'captured/ipsec-statusall_half-up_iks.txt': {
    parser: 'ipsec',
    expect: [{ state: 'ESTABLISHED', children: [] }],
  },
  'captured/swanctl-list-sas_half-up_icp.txt': {
    parser: 'swanctl',
    expect: [{ state: 'ESTABLISHED', children: [] }],
  },
  'captured/swanctl-list-sas_half-up_iks.txt': {
    parser: 'swanctl',
    expect: [{ state: 'ESTABLISHED', children: [] }],
  },
  'captured/ipsec-status_connecting_icp.txt': {
    parser: 'ipsec',
    expect: [{ state: 'CONNECTING', children: [] }],
  },
  'captured/ipsec-statusall_connecting_icp.txt': {
    parser: 'ipsec',
    expect: [{ state: 'CONNECTING', children: [] }],
  },
  'captured/swanctl-list-sas_connecting_icp.txt': {
    parser: 'swanctl',
    expect: [{ state: 'CONNECTING', children: [] }],
  },
  'captured/ipsec-status_no-sa_iks.txt': { parser: 'ipsec', expect: 'none' },
  'captured/ipsec-statusall_no-sa_iks.txt': { parser: 'ipsec', expect: 'none' },
  'captured/swanctl-list-sas_no-sa_iks.txt': { parser: 'swanctl', expect: 'none' },
  'captured/ipsec-status-named_no-match_icp.txt': { parser: 'ipsec', expect: 'none' },
  'captured/ipsec-status_no-daemon.txt': { parser: 'ipsec', expect: /no "Security Associations/ },
  'captured/ipsec-statusall_no-daemon.txt': { parser: 'ipsec', expect: /no "Security Associations/ },
  // swanctl printed nothing on stdout (its complaint is on stderr): readTunnel tells it from "no SA" by the exit code.
  'captured/swanctl-list-sas_no-daemon.txt': { parser: 'swanctl', expect: 'none' },
  // Not root: stdout is empty, the denial is on stderr (readTunnel below).
  'captured/ipsec-statusall_not-root_iks.txt': { parser: 'ipsec', expect: /no "Security Associations/ },
  'captured/swanctl-list-sas_not-root_iks.txt': { parser: 'swanctl', expect: 'none' },
  'shared/strongswan/ipsec-statusall_established_installed_site2site.txt': {
    parser: 'ipsec',
    expect: [
      {
        state: 'ESTABLISHED',
        children: ['INSTALLED'],
        localTs: ['172.19.10.0/24'],
        remoteTs: ['172.19.5.0/24'],
      },
    ],
  },
  'shared/strongswan/ipsec-statusall_established_installed_roadwarrior.txt': {
    parser: 'ipsec',
    expect: [{ state: 'ESTABLISHED', children: ['INSTALLED'], remoteTs: ['45.81.93.15/32'] }],
  },
  'shared/strongswan/ipsec-statusall_no-sa_down.txt': { parser: 'ipsec', expect: 'none' },
  'shared/strongswan/ipsec-status_established_installed_ibm-iks-strongswan-readme.txt': {
    parser: 'ipsec',
    expect: [
      {
        state: 'ESTABLISHED',
        children: ['INSTALLED'],
        localTs: ['172.21.0.0/16', '172.30.0.0/16'],
        remoteTs: ['10.91.152.128/26'],
      },
    ],
  },
  'shared/strongswan/ipsec-status_established_installed_shunted_lionelmace-iks-readme.txt': {
    parser: 'ipsec',
    expect: [{ state: 'ESTABLISHED', children: ['INSTALLED'], remoteTs: ['192.168.0.0/20'] }],
  },
  'shared/strongswan/strongswan-status_connecting_ibm-solution-tutorial.txt': {
    parser: 'ipsec',
    expect: [{ state: 'CONNECTING', children: [] }],
  },
  'shared/strongswan/strongswan-status_established_installed_ibm-solution-tutorial.txt': {
    parser: 'ipsec',
    expect: [{ state: 'ESTABLISHED', children: ['INSTALLED'], remoteTs: ['10.10.10.0/24', '10.20.10.0/24'] }],
  },
  // Not a status at all: `helm test vpn` output must never be read as a tunnel state.
  'shared/strongswan/helm-test_vpn_ibm-iks-strongswan-readme.txt': {
    parser: 'ipsec',
    expect: /no "Security Associations/,
  },
};

function checkListing(listing: SaListing, expect: SaExpect | RegExp, file: string): void {
  if (expect instanceof RegExp) {
    assert.equal(listing.ok, false, `${file} must not parse`);
    if (!listing.ok) assert.match(listing.reason, expect);
    return;
  }
  assert.ok(listing.ok, `${file}: ${listing.ok ? '' : listing.reason}`);
  if (expect === 'none') {
    assert.deepEqual(listing.sas, [], file);
    return;
  }
  assert.equal(listing.sas.length, expect.length, file);
  expect.forEach((e, i) => {
    const sa = listing.sas[i]!;
    assert.equal(sa.state, e.state, file);
    assert.deepEqual(
      sa.children.map((c) => c.state),
      e.children,
      file,
    );
    if (e.localTs) assert.deepEqual(sa.children[0]?.localTs, e.localTs, file);
    if (e.remoteTs) assert.deepEqual(sa.children[0]?.remoteTs, e.remoteTs, file);
  });
}

describe('ping parser over every ping fixture', () => {
  const codes = exitCodes();
  const files = [...allTextFixtures('captured'), ...allTextFixtures('shared/ping')].filter((f) => isPing(f));

  it('has an expectation for every ping fixture on disk', () => {
    assert.deepEqual(files, Object.keys(PING).sort());
  });

  for (const [file, { exit, expect }] of Object.entries(PING)) {
    it(file, () => {
      const code = exit ?? codes.get(file);
      assert.notEqual(code, undefined, `no recorded exit code for ${file}`);
      const outcome = parsePing(fixture(file, code!));
      if ('reason' in expect && expect.reason instanceof RegExp) {
        assert.equal(outcome.kind, expect.kind);
        assert.match((outcome as { reason: string }).reason, expect.reason);
        if (outcome.kind === 'unparsed') assert.equal(outcome.raw, fixture(file, 0).stdout);
      } else {
        assert.deepEqual(outcome, expect);
      }
    });
  }
});

describe('ping parser never guesses', () => {
  const success = fixture('captured/iputils_c3_W2_success_127.0.0.1.txt', 0);
  const lost = fixture('captured/busybox_c3_W2_100pct-loss_127.0.0.1.txt', 1);

  it('reads exit 127 and 126 as "no ping in the container"', () => {
    for (const exitCode of [126, 127]) {
      const outcome = parsePing({ stdout: '', stderr: 'sh: ping: not found\n', exitCode });
      assert.equal(outcome.kind, 'no-ping');
      assert.match(
        (outcome as { reason: string }).reason,
        new RegExp(`exit ${exitCode}: sh: ping: not found`),
      );
    }
  });

  it('refuses statistics that contradict the exit code', () => {
    const outcome = parsePing({ ...success, exitCode: 1 });
    assert.equal(outcome.kind, 'unparsed');
    assert.match((outcome as { reason: string }).reason, /exit code 1 does not match 3 of 3 received/);
    assert.equal(parsePing({ ...lost, exitCode: 0 }).kind, 'unparsed');
  });

  it('refuses a loss figure that does not add up, replies without an RTT line, and foreign text', () => {
    const wrongLoss = success.stdout.replace('0% packet loss', '40% packet loss');
    assert.equal(parsePing({ ...success, stdout: wrongLoss }).kind, 'unparsed');
    const noRtt = success.stdout.replace(/^rtt .*\n/m, '');
    assert.equal(parsePing({ ...success, stdout: noRtt }).kind, 'unparsed');
    const noHeader = success.stdout.replace(/^PING .*\n/m, '');
    assert.equal(parsePing({ ...success, stdout: noHeader }).kind, 'unparsed');
    const foreign = parsePing({ stdout: 'hello\n', stderr: '', exitCode: 0 });
    assert.deepEqual(foreign, {
      kind: 'unparsed',
      reason: 'no ping statistics in the output',
      raw: 'hello\n',
    });
  });

  it('builds argv only from a plain IPv4 address', () => {
    assert.deepEqual(pingArgv('10.1.0.5', 3, 2000), ['ping', '-c', '3', '-W', '2', '10.1.0.5']);
    assert.deepEqual(pingArgv('10.1.0.5', 1, 1500), ['ping', '-c', '1', '-W', '2', '10.1.0.5']);
    for (const bad of [
      '-f',
      '10.1.0.5;reboot',
      '$(id)',
      '`id`',
      '10.1.0.5 -f',
      'example.com',
      '10.1.0.256',
      '010.1.0.5',
    ]) {
      assert.throws(() => pingArgv(bad, 3, 2000), /not a plain IPv4 address/, bad);
    }
  });
});

describe('strongSwan parsers over every strongSwan fixture', () => {
  const files = [...allTextFixtures('captured'), ...allTextFixtures('shared/strongswan')].filter(
    (f) => !isPing(f),
  );

  it('has an expectation for every strongSwan fixture on disk', () => {
    assert.deepEqual(files, Object.keys(STRONGSWAN).sort());
  });

  for (const [file, { parser, expect }] of Object.entries(STRONGSWAN)) {
    it(file, () => {
      const text = fixture(file, 0).stdout;
      checkListing(parser === 'ipsec' ? parseIpsecStatus(text) : parseSwanctlSas(text), expect, file);
    });
  }

  it('reads the configured traffic selectors from statusall, where a refused CHILD SA shows the cause', () => {
    const listing = parseIpsecStatus(fixture('captured/ipsec-statusall_half-up_iks.txt', 0).stdout);
    assert.ok(listing.ok);
    assert.deepEqual(listing.conns, [
      { name: 'k8s-conn', localTs: ['172.30.0.0/16', '172.21.0.0/16'], remoteTs: ['10.9.0.0/16'] },
    ]);
  });

  it('reads the ESP byte and packet counters of each CHILD SA, in both formats', () => {
    const counters = (listing: SaListing) => (listing.ok ? listing.sas[0]?.children[0]?.counters : undefined);
    const site2site = parseIpsecStatus(
      fixture('shared/strongswan/ipsec-statusall_established_installed_site2site.txt', 0).stdout,
    );
    assert.deepEqual(counters(site2site), {
      bytesIn: 2646320,
      packetsIn: 37510,
      bytesOut: 3014849,
      packetsOut: 54623,
    });
    const zero = { bytesIn: 0, packetsIn: 0, bytesOut: 0, packetsOut: 0 };
    assert.deepEqual(
      counters(parseIpsecStatus(fixture('captured/ipsec-statusall_up_icp.txt', 0).stdout)),
      zero,
    );
    const swanctl = fixture('captured/swanctl-list-sas_up_icp.txt', 0).stdout;
    assert.deepEqual(counters(parseSwanctlSas(swanctl)), zero);
    // list_sas.c adds ", Ns ago" once the SA was used; the numbers are right-aligned in %6s and %5s.
    const used = swanctl
      .replace(/in {2}(\w+), +0 bytes, +0 packets/, 'in  $1,  14204 bytes,   121 packets,     0s ago')
      .replace(/out (\w+), +0 bytes, +0 packets/, 'out $1,    964 bytes,     7 packets,    12s ago');
    assert.deepEqual(counters(parseSwanctlSas(used)), {
      bytesIn: 14204,
      packetsIn: 121,
      bytesOut: 964,
      packetsOut: 7,
    });
    assert.equal(
      counters(parseIpsecStatus(fixture('captured/ipsec-status_up_icp.txt', 0).stdout)),
      undefined,
      '`ipsec status` has no counters',
    );
  });

  it('refuses an SA listing with a line it does not know, and counts that disagree with the header', () => {
    const up = fixture('captured/ipsec-status_up_icp.txt', 0).stdout;
    const strange = parseIpsecStatus(
      `${up}    k8s-conn[1]: ESTABLISHED 5 seconds ago, a...b\n    something else\n`,
    );
    assert.equal(strange.ok, false);
    const future = parseIpsecStatus(up.replace('ESTABLISHED', 'HALFWAY'));
    assert.equal(future.ok, false);
    const miscounted = parseIpsecStatus(up.replace('(1 up, 0 connecting)', '(2 up, 0 connecting)'));
    assert.equal(miscounted.ok, false);
    assert.match((miscounted as { reason: string }).reason, /2 up and 0 connecting but 1 IKE SAs/);
    assert.equal(parseSwanctlSas('hello world\n').ok, false);
  });
});

describe('readTunnel: exec result to tunnel reading', () => {
  const reading = (tool: 'ipsec' | 'swanctl', file: string): TunnelReading => {
    const codes = exitCodes();
    return readTunnel(tool, fixture(file, codes.get(file)!));
  };

  it('reads the daemon being down from each tool', () => {
    const ipsec = reading('ipsec', 'captured/ipsec-statusall_no-daemon.txt');
    assert.equal(ipsec.kind, 'no-daemon');
    const swanctl = reading('swanctl', 'captured/swanctl-list-sas_no-daemon.txt');
    assert.equal(swanctl.kind, 'no-daemon');
    assert.match(
      (swanctl as { reason: string }).reason,
      /unix:\/\/\/var\/run\/charon\.vici: No such file or directory/,
    );
  });

  it('reads a non-root exec user as denied (sudo may help), for both tools', () => {
    const ipsec = reading('ipsec', 'captured/ipsec-statusall_not-root_iks.txt');
    assert.deepEqual(ipsec, {
      kind: 'denied',
      tool: 'ipsec',
      reason: '`ipsec statusall` may not use unix:///var/run/charon.ctl: Permission denied',
    });
    const swanctl = reading('swanctl', 'captured/swanctl-list-sas_not-root_iks.txt');
    assert.equal(swanctl.kind, 'denied');
  });

  it('tells "no SA" (exit 0, empty) from "no daemon" for swanctl', () => {
    const none = reading('swanctl', 'captured/swanctl-list-sas_no-sa_iks.txt');
    assert.deepEqual(none, { kind: 'listing', tool: 'swanctl', sas: [], conns: [] });
  });

  it('asks for the other tool when the command is missing, and attaches raw text it cannot read', () => {
    assert.equal(
      readTunnel('ipsec', { stdout: '', stderr: 'sh: ipsec: not found\n', exitCode: 127 }).kind,
      'no-tool',
    );
    const odd = readTunnel('ipsec', { stdout: 'Segmentation fault\n', stderr: '', exitCode: 0 });
    assert.deepEqual(odd, {
      kind: 'unparsed',
      tool: 'ipsec',
      reason: 'no "Security Associations (… up, … connecting):" line',
      raw: 'Segmentation fault\n',
    });
    const failed = readTunnel('ipsec', { stdout: '', stderr: 'permission denied\n', exitCode: 1 });
    assert.equal(failed.kind, 'unparsed');
    assert.match((failed as { reason: string }).reason, /exited 1: permission denied/);
  });
});
