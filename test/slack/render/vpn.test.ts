import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KnownBlock } from '@slack/types';
import type { ProbeResult, VpnReport } from '../../../src/mesh/vpn/report.ts';
import { splitMessages } from '../../../src/slack/render/blocks.ts';
import { renderRefusal, renderVpn } from '../../../src/slack/render/vpn.ts';
import { blocksText, limitViolations } from '../../helpers/slack-limits.ts';

const SETTINGS = {
  count: 3,
  timeoutMs: 2000,
  concurrency: 16,
  thresholds: { lossPercent: 0, rttWarnMs: 100, rttChangePercent: 50 },
};

function probe(from: string, to: string, i: number, status: ProbeResult['status'] = 'ok'): ProbeResult {
  return {
    key: `${from}>${to}/app-${i}`,
    from,
    probe: { cluster: from, namespace: 'default', name: `vpn-strongswan-${from}` },
    target: { cluster: to, ip: `10.${i % 250}.0.${i % 200}`, label: `app-${i}` },
    outcome:
      status === 'lost'
        ? { kind: 'stats', flavour: 'iputils', transmitted: 3, received: 0, errors: 0, lossPercent: 100 }
        : {
            kind: 'stats',
            flavour: 'busybox',
            transmitted: 3,
            received: 3,
            errors: 0,
            lossPercent: 0,
            rtt: { min: 51.2, avg: 52.3, max: 54.9 },
          },
    status,
  };
}

const base = (over: Partial<VpnReport> = {}): VpnReport => ({
  scope: { kind: 'matrix' },
  checkedAt: '2026-11-27T10:00:00.000Z',
  durationMs: 2345,
  verdict: 'healthy',
  summary: 'tunnel up; 1 of 1 ping targets answer, avg RTT 52 ms',
  settings: SETTINGS,
  pairs: [['icp', 'iks']],
  tunnels: [],
  probes: [probe('iks', 'icp', 1)],
  nodeProbes: [],
  mtu: [],
  ports: [],
  routes: [],
  findings: [],
  ...over,
});

const text = (blocks: KnownBlock[]) => blocksText(blocks);

describe('renderVpn', () => {
  it('verdict, pings and settings in a reply; the summary for the parent', () => {
    const r = renderVpn(base());
    assert.equal(r.verdict, 'healthy');
    assert.equal(r.summary, 'tunnel up; 1 of 1 ping targets answer, avg RTT 52 ms');
    const t = text(r.blocks);
    assert.match(t, /:large_green_circle: \*healthy\*: tunnel up/);
    assert.match(
      t,
      /\*iks → icp\* from `default\/vpn-strongswan-iks`\n:large_green_circle: app-1 `10\.1\.0\.1` — 0% loss \(3\/3\), rtt 51\.2\/52\.3\/54\.9 ms/,
    );
    assert.match(t, /\n1 target · ping -c 3 -W 2 · up to 16 at once per cluster · .* took 2\.3 s/);
    assert.match(t, /First run: nothing earlier to compare with\./);
  });

  it('the probes from app pods: per node, the path MTU, the control-plane ports (UDP not judged), the routes DaemonSet', () => {
    const appPod = { cluster: 'iks', namespace: 'default', name: 'reviews-v3-x', container: 'istio-proxy' };
    const pilot = { cluster: 'icp', ip: '10.1.0.7', label: 'pilot' };
    const r = renderVpn(
      base({
        nodeProbes: [{ ...probe('iks', 'icp', 7, 'lost'), probe: { ...appPod, node: '10.177.80.<22>' } }],
        mtu: [
          {
            key: 'iks>icp',
            from: 'iks',
            to: 'icp',
            probe: appPod,
            target: pilot,
            expected: 1400,
            sizes: [],
            outcome: { kind: 'black-hole', largest: 1272, lost: 1304 },
          },
          {
            key: 'icp>iks',
            from: 'icp',
            to: 'iks',
            probe: { ...appPod, cluster: 'icp', name: 'details-v1-x' },
            target: pilot,
            expected: 1400,
            sizes: [],
            outcome: { kind: 'no-df', reason: 'its ping is BusyBox v1.35.0, which has no -M option' },
          },
        ],
        ports: [
          {
            key: 'a',
            from: 'iks',
            probe: appPod,
            target: pilot,
            port: { port: 15010, protocol: 'TCP' },
            outcome: { kind: 'timeout' },
          },
          {
            key: 'b',
            from: 'iks',
            probe: appPod,
            target: { ...pilot, label: 'statsd-prom-bridge' },
            port: { port: 9125, protocol: 'UDP' },
            outcome: { kind: 'udp-sent' },
          },
        ],
        routes: [
          {
            cluster: 'iks',
            ok: true,
            daemonSet: 'vpn-strongswan-routes',
            desired: 3,
            ready: 2,
            nodesWithout: ['10.177.80.<22>'],
            unscheduled: 0,
          },
        ],
      }),
    );
    const t = text(r.blocks);
    assert.match(
      t,
      /:red_circle: app-7 `[\d.]+` — 100% loss \(0\/3\) — from iks node `10\.177\.80\.&lt;22&gt;` \(`default\/reviews-v3-x`\)/,
    );
    assert.match(
      t,
      /\*iks → icp\* from `default\/reviews-v3-x`: :red_circle: 1400-byte DF packets vanish; the largest that crosses is 1272 bytes \(1304 is lost\)/,
    );
    assert.match(
      t,
      /:information_source: not measured: its ping is BusyBox v1\.35\.0, which has no -M option/,
    );
    assert.match(t, /:red_circle: timed out — pilot `10\.1\.0\.7:15010\/tcp`/);
    assert.match(
      t,
      /:white_circle: sent — UDP has no handshake, so only a refusal would show; not judged — statsd-prom-bridge `10\.1\.0\.7:9125\/udp`/,
    );
    assert.match(
      t,
      /:red_circle: iks: `vpn-strongswan-routes` 2 of 3 ready; no ready pod on `10\.177\.80\.&lt;22&gt;`/,
    );
    assert.ok(!t.includes('<22>'), 'values from clusters are escaped');
  });

  it('10 clusters and 150 pings stay within Slack limits, every ping line present', () => {
    const probes = Array.from({ length: 150 }, (_, i) =>
      probe(`r${i % 9}`, 'icp', i, i % 7 === 0 ? 'lost' : 'ok'),
    );
    const findings = Array.from({ length: 30 }, (_, i) => ({
      id: `vpn/x/${i}`,
      area: 'reachability' as const,
      severity: 'warning' as const,
      text: `finding ${i} ${'x'.repeat(400)}`,
      action: 'do something',
    }));
    const r = renderVpn(base({ probes, findings, verdict: 'down', summary: 'many things' }));
    assert.deepEqual(limitViolations(splitMessages(r.blocks), r.text), []);
    const t = text(r.blocks);
    for (const p of probes) assert.ok(t.includes(`${p.target.label} \``), p.key);
  });

  it('raw output is escaped and fenced so it cannot break out of its code block', () => {
    const r = renderVpn(
      base({
        verdict: 'degraded',
        findings: [
          {
            id: 'vpn/unparsed/iks/tunnel',
            area: 'not-checked',
            severity: 'warning',
            text: 'could not parse <the> status & more',
            raw: 'weird ``` fence <@U123> & stuff\n'.repeat(500),
          },
        ],
      }),
    );
    const raw = r.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('Raw output for'));
    assert.ok(raw && raw.type === 'section' && raw.text);
    const body = raw.text.text;
    assert.equal(body.match(/```/g)?.length, 2, 'only the opening and closing fence');
    assert.ok(!body.includes('<@U123>'), 'no live mention');
    assert.match(body, /&lt;@U123&gt; &amp; stuff/);
    assert.match(body, /…\(\+\d+ chars\)/, 'cut with a note, never silently');
    assert.match(text(r.blocks), /could not parse &lt;the&gt; status &amp; more/);
    assert.deepEqual(limitViolations([r.blocks]), []);
  });

  it('the comparison with the previous run', () => {
    const r = renderVpn(
      base({
        comparison: {
          previousAt: '2026-11-27T09:00:00.000Z',
          newlyFailing: ['iks>icp/pilot'],
          recovered: [],
          rttUp: [{ key: 'iks>icp/policy', beforeMs: 50, afterMs: 120, percent: 140 }],
          rttDown: [],
        },
      }),
    );
    const t = text(r.blocks);
    assert.match(
      t,
      /\*Since the run at <!date\^\d+\^[^|>]+\|2026-11-27 09:00 UTC>\*\n:red_circle: newly failing: iks → icp pilot\n:arrow_up: RTT up: iks → icp policy 50\.0 → 120 ms \(\+140%\)/,
    );
    const same = renderVpn(
      base({
        comparison: {
          previousAt: '2026-11-27T09:00:00.000Z',
          newlyFailing: [],
          recovered: [],
          rttUp: [],
          rttDown: [],
        },
      }),
    );
    assert.match(
      text(same.blocks),
      /\*Since the run at <!date\^\d+\^[^|>]+\|2026-11-27 09:00 UTC>\*: no pair changed/,
    );
  });

  it('a /mesh ping report is titled by its pair and has no comparison line', () => {
    const r = renderVpn(base({ scope: { kind: 'ping', from: 'iks', target: '10.1.0.5' } }));
    const t = text(r.blocks);
    assert.match(t, /^Ping iks → 10\.1\.0\.5/);
    assert.doesNotMatch(t, /First run|Since the run/);
  });

  it('a refusal says what was wrong and that nothing was pinged', () => {
    const r = renderRefusal('192.0.2.1 is not inside … : nothing was pinged');
    assert.equal(r.verdict, 'failed');
    assert.equal(r.summary, 'refused: 192.0.2.1 is not inside … : nothing was pinged');
    assert.match(text(r.blocks), /^:no_entry: Not pinged: 192\.0\.2\.1/);
  });
});
