import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_LIST_LINES } from '../../../src/chat/mrkdwn.ts';
import { judgeStatus } from '../../../src/mesh/istio/check.ts';
import type { StatusReport } from '../../../src/mesh/istio/report.ts';
import { splitMessages } from '../../../src/slack/render/blocks.ts';
import { renderStatus } from '../../../src/slack/render/status.ts';
import { blocksText, limitViolations } from '../../helpers/slack-limits.ts';
import { address, labelsOf, pod, snapshot } from '../../mesh/istio/snapshots.ts';

const report = (r: Omit<StatusReport, 'ms'>): StatusReport => ({ ...r, ms: 420 });

const PILOT = labelsOf('istio=pilot');
const primary = (o: Parameters<typeof snapshot>[2] = {}) =>
  snapshot('icp', 'primary', {
    secrets: ['iks'],
    ...o,
    pods: { pilot: [pod('istio-pilot-1', { labels: PILOT, ip: '10.1.0.57' })], ...o.pods },
  });

describe('renderStatus (pure)', () => {
  it('healthy: the verdict, one line per cluster, no findings section', () => {
    const r = renderStatus(report(judgeStatus([primary(), snapshot('iks', 'remote')])));
    assert.equal(r.verdict, 'healthy');
    assert.equal(r.summary, '2 clusters: 12 components ready, 0 sidecars ready, no drift');
    const text = blocksText(r.blocks);
    assert.match(text, /Mesh status: healthy/);
    assert.match(text, /\*icp\* \(primary · istio-1\.0 · istio-system\) — 10\/10 components ready/);
    assert.match(text, /remote secrets for iks/);
    assert.match(
      text,
      /\*iks\* \(remote · istio-1\.0 · istio-system\) — 2\/2 components ready .* no address drift/,
    );
    assert.doesNotMatch(text, /Findings/);
    assert.deepEqual(limitViolations([r.blocks], r.text), []);
  });

  it('what matters most comes first, with the action and what it explains', () => {
    const r = renderStatus(
      report(
        judgeStatus([
          primary(),
          snapshot('iks', 'remote', {
            meshAddresses: [address('pilot', 'ConfigMap istio-system/istio', '10.1.0.23:15007')],
            workloads: [
              pod('reviews-v3', {
                namespace: 'default',
                proxy: 'unready',
                proxyArgs: ['--discoveryAddress', '10.1.0.23:15007'],
              }),
            ],
          }),
        ]),
      ),
    );
    assert.equal(r.verdict, 'degraded');
    assert.equal(
      r.summary,
      'iks: sidecars point at pilot 10.1.0.23, pilot now runs at 10.1.0.57 (drift) — new sidecars get no configuration from pilot and never become ready; running ones keep their last routes and endpoints (+1 more finding)',
    );
    const [head, top] = r.blocks;
    assert.equal(head?.type === 'header' && head.text.text, ':large_yellow_circle: Mesh status: degraded');
    const topText = blocksText([top!]);
    assert.match(
      topText,
      /^\*What matters most\*\n• iks: sidecars point at pilot 10\.1\.0\.23, pilot now runs at 10\.1\.0\.57 \(drift\) — new sidecars get no configuration from pilot and never become ready; running ones keep their last routes and endpoints _\(explains 1 other finding\)_/,
    );
    assert.match(
      topText,
      /→ re-install the istio-remote chart on iks with global\.remotePilotAddress=10\.1\.0\.57/,
    );
    const text = blocksText(r.blocks);
    assert.match(text, /\*Other findings \(1\)\*/);
    assert.match(
      text,
      /iks: istio-proxy not ready in 1 of 1 pod in the mesh — default\/reviews-v3 1\/2 Running\n\s+↳ _because iks: sidecars point at pilot/,
    );
    assert.match(text, /`ConfigMap istio-system\/istio` f = `10\.1\.0\.23:15007` → pilot is at 10\.1\.0\.57/);
    assert.match(r.text, /^Mesh status: degraded — iks: sidecars point at pilot/);
  });

  it('an unreachable cluster says why in its line', () => {
    const down = {
      ok: false as const,
      failure: { kind: 'unauthorized' as const, reason: '401 Unauthorized: the token was rejected' },
    };
    const s = snapshot('iks', 'remote');
    const r = renderStatus(
      report(
        judgeStatus([
          primary(),
          {
            ...s,
            components: s.components.map((c) => ({ ...c, pods: down })),
            namespaces: down,
            workloads: down,
            controllers: down,
            istioPods: down,
            meshConfig: down,
            pilotEndpoints: down,
          },
        ]),
      ),
    );
    assert.match(
      blocksText(r.blocks),
      /:red_circle: \*iks\* \(remote · istio-1\.0 · istio-system\) — not reachable: 401 Unauthorized: the token was rejected/,
    );
  });

  it('2,000 pods without a ready sidecar stay within Slack’s limits and say what was left out', () => {
    const workloads = Array.from({ length: 2000 }, (_, i) =>
      pod(`bulk-${Math.floor(i / 10)}-${String(i % 10).padStart(5, 'x')}`, {
        namespace: 'bulk',
        proxy: i % 2 === 0 ? 'unready' : 'none',
      }),
    );
    const r = renderStatus(report(judgeStatus([primary(), snapshot('iks', 'remote', { workloads })])));
    const messages = splitMessages(r.blocks);
    assert.deepEqual(limitViolations(messages, r.text), []);
    const all = blocksText(r.blocks);
    assert.doesNotMatch(all, /…\(\+\d+ chars\)/, 'no line was clipped');
    assert.match(all, /\*Data plane on iks\*: 2000 pods of 2000 without a ready sidecar/);
    assert.match(
      all,
      new RegExp(
        `…and ${2000 - MAX_LIST_LINES} more pods: \`kubectl get pods -n &lt;namespace&gt;\` on iks lists them`,
      ),
    );
    assert.match(blocksText(messages[0]!), /Mesh status: degraded/);
    assert.match(blocksText(messages[0]!), /\*iks\* \(remote/, 'the cluster lines are in the first reply');
    assert.ok(messages.length <= 4, `${messages.length} replies`);
  });
});

describe('renderStatus: what changed since the previous run', () => {
  const healthy = () => report(judgeStatus([primary(), snapshot('iks', 'remote')]));
  const at = Date.UTC(2026, 11, 3, 9, 5);
  const none = { previousAt: at, windowFrom: at, components: [], restarts: [] };

  it('nothing changed: one context line with the previous run’s time', () => {
    const text = blocksText(renderStatus(healthy(), none).blocks);
    assert.match(text, new RegExp(`Nothing changed since the previous check at <!date\\^${at / 1000}\\^`));
  });

  it('VPN pairs that started failing and proxies that went STALE are named, the rest counted', () => {
    const text = blocksText(
      renderStatus(healthy(), {
        ...none,
        vpn: {
          at: at + 60_000,
          newlyFailing: ['iks>icp/pilot', 'iks>icp/policy', 'iks>icp/telemetry', 'iks>icp/zipkin'],
          recovered: [],
        },
        proxies: {
          newlyStale: ['reviews-v3-1.default'],
          stale: { before: 0, now: 1 },
          unknown: { before: 0, now: 0 },
        },
      }).blocks,
    );
    assert.match(text, /\*Since the previous check\*/);
    assert.match(
      text,
      /:x: VPN pairs started failing \(\/mesh vpn at <!date[^)]*\): iks → icp pilot, iks → icp policy, iks → icp telemetry and 1 more/,
    );
    assert.match(text, /:warning: 1 proxy went STALE: reviews-v3-1\.default/);
  });

  it('a long list of changes is capped, saying how many more', () => {
    const restarts = Array.from({ length: MAX_LIST_LINES + 4 }, (_, i) => ({
      cluster: 'icp',
      component: `c${i}`,
      sincePrevious: 1,
      inWindow: 1,
    }));
    const r = renderStatus(healthy(), { ...none, restarts });
    assert.match(blocksText(r.blocks), /…and 4 more changes/);
    assert.deepEqual(limitViolations([r.blocks], r.text), []);
  });
});
