import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeStatus } from '../../../src/mesh/istio/check.ts';
import type { Draft } from '../../../src/mesh/istio/findings.ts';
import type { ClusterSnapshot, Fetched } from '../../../src/mesh/istio/gather.ts';
import { explainedCounts, resolveFindings, topFindings } from '../../../src/mesh/istio/verdict.ts';
import { address, labelsOf, pod, snapshot } from './snapshots.ts';

const PILOT = labelsOf('istio=pilot');
const down: Fetched<never> = { ok: false, failure: { kind: 'timeout', reason: 'timed out after 5000 ms' } };

function unreachable(s: ClusterSnapshot): ClusterSnapshot {
  return {
    ...s,
    components: s.components.map((c) => ({ ...c, pods: down })),
    namespaces: down,
    workloads: down,
    controllers: down,
    istioPods: down,
    ...(s.services ? { services: down } : {}),
    ...(s.remoteSecrets ? { remoteSecrets: down } : {}),
    ...(s.meshConfig ? { meshConfig: down } : {}),
    ...(s.pilotEndpoints ? { pilotEndpoints: down } : {}),
  };
}

const icp = (o: Parameters<typeof snapshot>[2] = {}) =>
  snapshot('icp', 'primary', {
    secrets: ['iks'],
    ...o,
    pods: { pilot: [pod('pilot-1', { labels: PILOT, ip: '10.1.0.57' })], ...o.pods },
  });

const reviews = (proxy: 'ready' | 'unready' | 'none', ip = '10.1.0.57') =>
  pod('reviews-v3', { namespace: 'default', proxy, proxyArgs: ['--discoveryAddress', `${ip}:15007`] });

const iks = (o: Parameters<typeof snapshot>[2] = {}) =>
  snapshot('iks', 'remote', {
    meshAddresses: [address('pilot', 'ConfigMap istio-system/istio', '10.1.0.57:15007')],
    workloads: [reviews('ready')],
    ...o,
  });

const ids = (r: { findings: { id: string }[] }) => r.findings.map((f) => f.id);

describe('verdict (pure, from snapshots)', () => {
  it('healthy when nothing is wrong', () => {
    const r = judgeStatus([icp(), iks()]);
    assert.equal(r.health, 'healthy');
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.top, []);
    assert.deepEqual(
      r.clusters.map((c) => c.health),
      ['healthy', 'healthy'],
    );
  });

  it('drift explains the remote’s unready sidecars: drift on top, the sidecars under it', () => {
    const r = judgeStatus([
      icp(),
      iks({
        meshAddresses: [address('pilot', 'ConfigMap istio-system/istio', '10.1.0.23:15007')],
        workloads: [reviews('unready', '10.1.0.23')],
      }),
    ]);
    assert.equal(r.health, 'degraded');
    assert.deepEqual(r.top, ['iks/drift/pilot']);
    assert.deepEqual(ids(r), ['iks/drift/pilot', 'iks/sidecars/unready']);
    assert.equal(r.findings[1]?.causedBy, 'iks/drift/pilot');
    assert.equal(
      r.findings[0]?.text,
      'iks: sidecars point at pilot 10.1.0.23, pilot now runs at 10.1.0.57 (drift) — new sidecars get no configuration from pilot and never become ready; running ones keep their last routes and endpoints',
    );
    assert.equal(explainedCounts(r.findings).get('iks/drift/pilot'), 1);
    assert.deepEqual(
      r.clusters.map((c) => [c.name, c.health]),
      [
        ['icp', 'healthy'],
        ['iks', 'degraded'],
      ],
    );
  });

  it('pilot drift outranks a failing telemetry: what stops configuration comes first', () => {
    const r = judgeStatus([
      icp({
        pods: {
          telemetry: [pod('telemetry-1', { labels: labelsOf('istio-mixer-type=telemetry'), ready: false })],
        },
      }),
      iks({ meshAddresses: [address('pilot', 'ConfigMap istio-system/istio', '10.1.0.23:15007')] }),
    ]);
    assert.deepEqual(r.top, ['iks/drift/pilot', 'icp/component/telemetry']);
  });

  it('pilot missing on the primary is critical and explains the drift and the sidecars', () => {
    const r = judgeStatus([
      icp({ pods: { pilot: [] } }),
      iks({
        meshAddresses: [address('pilot', 'ConfigMap istio-system/istio', '10.1.0.23:15007')],
        workloads: [reviews('unready', '10.1.0.23')],
      }),
    ]);
    assert.equal(r.health, 'down');
    assert.deepEqual(r.top, ['icp/component/pilot']);
    const byId = new Map(r.findings.map((f) => [f.id, f]));
    assert.equal(byId.get('icp/component/pilot')?.severity, 'critical');
    assert.equal(byId.get('iks/drift/pilot')?.causedBy, 'icp/component/pilot');
    assert.equal(byId.get('iks/sidecars/unready')?.causedBy, 'icp/component/pilot');
    assert.equal(explainedCounts(r.findings).get('icp/component/pilot'), 2);
    assert.match(byId.get('iks/drift/pilot')?.action ?? '', /once pilot runs again on icp/);
  });

  it('an unreachable primary: down, nothing else claimed about it, the remote’s drift unchecked because of it', () => {
    const r = judgeStatus([unreachable(icp()), iks()]);
    assert.equal(r.health, 'down');
    assert.deepEqual(ids(r), ['icp/reachability', 'iks/not-checked/drift']);
    assert.equal(r.findings[1]?.causedBy, 'icp/reachability');
    assert.deepEqual(r.top, ['icp/reachability']);
    assert.equal(r.clusters[0]?.failure?.kind, 'timeout');
    assert.deepEqual(r.clusters[0]?.components, []);
    assert.equal(r.clusters[1]?.health, 'degraded', 'unknown drift keeps the remote from looking healthy');
  });

  it('an unreachable remote degrades the mesh; every cluster unreachable is down', () => {
    const one = judgeStatus([icp(), unreachable(iks())]);
    assert.equal(one.health, 'degraded');
    assert.deepEqual(
      one.clusters.map((c) => c.health),
      ['healthy', 'down'],
    );
    assert.equal(judgeStatus([unreachable(iks())].map((s) => s)).health, 'down');
  });

  it('pods without a sidecar are explained by a failing injector on the same cluster', () => {
    const r = judgeStatus([
      icp(),
      iks({
        pods: {
          'sidecar-injector': [pod('inj-1', { labels: labelsOf('istio=sidecar-injector'), ready: false })],
        },
        workloads: [reviews('none')],
      }),
    ]);
    const missing = r.findings.find((f) => f.id === 'iks/sidecars/missing');
    assert.equal(missing?.causedBy, 'iks/component/sidecar-injector');
    assert.deepEqual(r.top, ['iks/component/sidecar-injector']);
  });

  it('an optional component missing is reported and changes nothing', () => {
    const r = judgeStatus([icp({ pods: { egressgateway: [] } }), iks()]);
    assert.equal(r.health, 'healthy');
    assert.deepEqual(ids(r), ['icp/component/egressgateway']);
    assert.equal(r.findings[0]?.severity, 'info');
    assert.deepEqual(r.top, []);
  });

  it('a missing remote secret on the primary is named on the primary', () => {
    const r = judgeStatus([icp({ secrets: [] }), iks()]);
    assert.deepEqual(ids(r), ['icp/remote-secret/iks']);
    assert.equal(r.clusters[0]?.health, 'degraded');
  });

  it('asked about a remote, the primary’s answers are used but not reported', () => {
    const r = judgeStatus([icp({ secrets: [] }), iks()], 'iks');
    assert.equal(r.cluster, 'iks');
    assert.deepEqual(
      r.clusters.map((c) => c.name),
      ['iks'],
    );
    assert.deepEqual(ids(r), ['icp/remote-secret/iks']);
  });
});

describe('ranking findings', () => {
  const draft = (
    id: string,
    severity: Draft['severity'],
    area: Draft['area'],
    explainedBy?: string[],
  ): Draft => ({
    id,
    cluster: id.split('/')[0]!,
    area,
    severity,
    text: id,
    ...(explainedBy ? { explainedBy } : {}),
  });

  it('severity first, causes before what they explain, area, then cluster order; duplicates once', () => {
    const findings = resolveFindings(
      [
        draft('iks/sidecars/unready', 'warning', 'sidecar', ['icp/gone', 'iks/drift/pilot']),
        draft('iks/restart/citadel', 'info', 'restart'),
        draft('iks/drift/pilot', 'warning', 'drift'),
        draft('icp/component/galley', 'warning', 'component'),
        draft('iks/component/citadel', 'warning', 'component'),
        draft('icp/component/pilot', 'critical', 'component'),
        draft('icp/component/pilot', 'critical', 'component'),
      ],
      ['icp', 'iks'],
    );
    assert.deepEqual(
      findings.map((f) => f.id),
      [
        'icp/component/pilot',
        'icp/component/galley',
        'iks/component/citadel',
        'iks/drift/pilot',
        'iks/sidecars/unready',
        'iks/restart/citadel',
      ],
    );
    assert.equal(findings[4]?.causedBy, 'iks/drift/pilot', 'the first cause that exists is kept');
    assert.deepEqual(topFindings(findings), [
      'icp/component/pilot',
      'icp/component/galley',
      'iks/component/citadel',
    ]);
  });

  it('info and explained findings never make the top', () => {
    const findings = resolveFindings(
      [
        draft('a/restart/x', 'info', 'restart'),
        draft('a/sidecars/unready', 'warning', 'sidecar', ['a/drift/pilot']),
        draft('a/drift/pilot', 'warning', 'drift'),
      ],
      ['a'],
    );
    assert.deepEqual(topFindings(findings), ['a/drift/pilot']);
  });
});

describe('which pods must carry a sidecar', () => {
  it('not a completed Job pod, a hostNetwork pod, an opted-out pod or the VPN gateway; a pod truly without one is named', () => {
    const bare = (name: string) => pod(name, { namespace: 'default', proxy: 'none' });
    const job = { ...bare('migrate-x7k2p'), state: { ...bare('migrate-x7k2p').state, finished: true } };
    const routes = {
      ...bare('vpn-strongswan-routes-4kq2z'),
      hostNetwork: true,
      restartKind: 'daemonset' as const,
    };
    const vpn = { ...bare('vpn-strongswan-5d9f-abcde'), vpnGateway: true };
    const optedOut = { ...bare('debug'), optedOut: true };
    const legacy = { ...bare('legacy-5d9f-abcde'), workload: 'legacy', restartKind: 'deployment' as const };
    const r = judgeStatus([
      icp(),
      iks({ workloads: [reviews('ready'), job, routes, vpn, optedOut, legacy] }),
    ]);
    const dp = r.clusters.find((c) => c.name === 'iks')!.dataPlane!;
    assert.deepEqual([dp.pods, dp.withReadySidecar, dp.optedOut, dp.notInjected], [2, 1, 1, 2]);
    assert.deepEqual(
      dp.problems.map((p) => p.pod),
      ['legacy-5d9f-abcde'],
    );
    const f = r.findings.find((x) => x.id === 'iks/sidecars/missing')!;
    assert.match(f.action ?? '', /rollout restart deployment\/legacy\)$/);
    assert.ok(r.findings.every((x) => !/strongswan/.test(`${x.text} ${x.action}`)));
  });
});
