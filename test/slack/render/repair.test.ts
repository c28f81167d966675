import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KnownBlock } from '@slack/types';
import type { StatusReport } from '../../../src/mesh/istio/report.ts';
import { stalePodLines } from '../../../src/mesh/repair/describe.ts';
import { remotesWithDrift } from '../../../src/mesh/repair/propose.ts';
import type { RestartPlan } from '../../../src/mesh/repair/restart-plan.ts';
import type { Verification } from '../../../src/mesh/repair/verify.ts';
import type { VpnReport } from '../../../src/mesh/vpn/report.ts';
import { renderRepairReply, renderVerification } from '../../../src/slack/render/repair.ts';
import { limitViolations } from '../../helpers/slack-limits.ts';

const status = (health: StatusReport['health'], findings: StatusReport['findings'] = []): StatusReport => ({
  checkedAt: '2026-11-27T12:00:00.000Z',
  cluster: 'iks',
  health,
  clusters: [],
  findings,
  top: findings.map((f) => f.id),
  summary: findings[0]?.text ?? '0 clusters: 0 components ready, 0 sidecars ready, no drift',
  ms: 10,
});

const vpn = (verdict: VpnReport['verdict']): VpnReport => ({
  scope: { kind: 'ping', from: 'iks', target: 'icp' },
  checkedAt: '2026-11-27T12:00:00.000Z',
  durationMs: 100,
  verdict,
  summary: verdict === 'healthy' ? 'tunnel up; 5 of 5 ping targets answer' : 'tunnel down on the iks side',
  settings: {
    count: 3,
    timeoutMs: 2000,
    concurrency: 16,
    thresholds: { lossPercent: 0, rttWarnMs: 100, rttChangePercent: 50 },
  },
  pairs: [['iks', 'icp']],
  tunnels: [],
  probes: [],
  nodeProbes: [],
  mtu: [],
  ports: [],
  routes: [],
  findings:
    verdict === 'healthy'
      ? []
      : [
          {
            id: 'vpn/tunnel/iks',
            area: 'tunnel',
            severity: 'critical',
            text: 'tunnel down on the iks side',
            action: 'check strongSwan on iks',
          },
        ],
});

function manyPods(n: number): RestartPlan {
  return {
    remote: 'iks',
    primary: 'icp',
    targets: Array.from({ length: n / 10 }, (_, d) => ({
      namespace: 'bulk',
      name: `app-${d}`,
      resourceVersion: String(d),
      pods: Array.from({ length: 10 }, (_, p) => ({
        name: `app-${d}-5d4f8c7b9-${String(p).padStart(5, 'x')}`,
        addresses: [
          { field: 'istio-proxy --discoveryAddress', value: '10.1.151.122:15007', reason: 'pilot restarted' },
        ],
      })),
    })),
    left: [],
    diff: '',
    hash: '',
  };
}

describe('rendering the repair (pure)', () => {
  it('the verification says healthy only when both checks are, and lists what is left otherwise', () => {
    const base: Verification = {
      remote: 'iks',
      primary: 'icp',
      after: 'repair',
      status: { ok: true, report: status('healthy'), summary: '1 cluster: no drift' },
      vpn: { ok: true, report: vpn('healthy') },
    };
    assert.equal(renderVerification(base).text, 'iks after the repair: healthy');
    const broken = renderVerification({
      ...base,
      status: {
        ok: true,
        report: status('degraded', [
          {
            id: 'iks/drift/pilot',
            cluster: 'iks',
            area: 'drift',
            severity: 'warning',
            text: 'iks: sidecars point at pilot 10.1.151.122, pilot now runs at 10.1.231.182 (drift)',
            action: 'restart the injected pod',
          },
        ]),
        summary: 'drift',
      },
      vpn: { ok: false, reason: 'exec is forbidden' },
    });
    assert.equal(broken.text, 'iks after the repair: failed');
    const shown = JSON.stringify(broken.blocks);
    assert.match(
      shown,
      /\*What is left\*\\n• iks: sidecars point at pilot 10\.1\.151\.122.* → restart the injected pod/,
    );
    assert.match(shown, /VPN iks → icp\*: the check could not run: exec is forbidden/);
  });

  it('2,000 pods with old addresses stay within Slack’s limits, and the cut is said', () => {
    const lines = stalePodLines(manyPods(2000));
    assert.equal(lines.length, 151);
    assert.match(lines.at(-1)!, /…and 1850 more pods \(`\/mesh status iks` lists the drift\)/);
    const v = renderVerification({
      remote: 'iks',
      primary: 'icp',
      after: 'repair',
      status: { ok: true, report: status('degraded'), summary: 'drift' },
      vpn: { ok: true, report: vpn('down') },
      pods: { lines, offer: 'A rolling restart waits for approval.' },
    });
    assert.deepEqual(limitViolations([v.blocks as KnownBlock[]], v.text), []);
  });

  it('the command’s verdict: failed if a remote could not be planned, healthy if nothing needed repair', () => {
    const nothing = renderRepairReply([{ kind: 'nothing', remote: 'iks', primary: 'icp', left: [] }]);
    assert.equal(nothing.verdict, 'healthy');
    assert.equal(nothing.summary, 'iks: nothing to repair');
    const mixed = renderRepairReply([
      {
        kind: 'nothing',
        remote: 'iks',
        primary: 'icp',
        left: ['ConfigMap istio-system/istio …: pilot has no running pod on icp'],
      },
      {
        kind: 'not-requested',
        remote: 'iks2',
        reason: 'iks2 could not be read: 401 Unauthorized',
        checks: [],
      },
    ]);
    assert.equal(mixed.verdict, 'failed');
    assert.equal(
      mixed.summary,
      'iks: nothing meshops can repair now, 1 address left for you; iks2: iks2 could not be read: 401 Unauthorized',
    );
    assert.equal(renderRepairReply([]).summary, 'no remote cluster is configured');
  });

  it('reads drifted remotes from the scheduled status findings', () => {
    assert.deepEqual(
      remotesWithDrift(
        ['iks/drift/pilot', 'iks/drift/policy', 'icp/component/pilot', 'ibm2/drift/istiod', 'gone/drift/x'],
        ['iks', 'ibm2', 'ibm3'],
      ),
      ['iks', 'ibm2'],
    );
  });
});
