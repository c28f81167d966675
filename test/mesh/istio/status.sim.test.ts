import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import type { StatusFinding, StatusReport } from '../../../src/mesh/istio/report.ts';
import { shippedRbac } from '../../../src/sim/index.ts';
import { type StatusSim, startStatusSim } from './sim.ts';

const find = (r: StatusReport, id: string): StatusFinding => {
  const f = r.findings.find((x) => x.id === id);
  assert.ok(f, `finding ${id} among ${r.findings.map((x) => x.id).join(', ') || '(none)'}`);
  return f;
};
const cluster = (r: StatusReport, name: string) => {
  const c = r.clusters.find((x) => x.name === name);
  assert.ok(c, `cluster ${name} in the report`);
  return c;
};
const component = (r: StatusReport, c: string, name: string) => {
  const x = cluster(r, c).components.find((y) => y.name === name);
  assert.ok(x, `component ${name} on ${c}`);
  return x;
};

describe('/mesh status against the simulated seed mesh (icp primary, iks remote)', () => {
  let sim: StatusSim;
  before(async () => {
    sim = await startStatusSim({ extraConfig: 'checks:\n  clusterTimeout: 1s\n' });
  });
  afterEach(() => sim.mesh.faults.reset());
  after(() => sim.close());

  it('healthy: every component, sidecar, remote secret and address checks out', async () => {
    const r = await sim.check();
    assert.equal(r.health, 'healthy');
    assert.deepEqual(r.top, []);
    assert.deepEqual(
      r.findings.filter((f) => f.severity !== 'info'),
      [],
    );
    const icp = cluster(r, 'icp');
    assert.deepEqual(
      icp.components.map((c) => `${c.name} ${c.health} ${c.ready}/${c.total}`),
      [
        'pilot ok 1/1',
        'policy ok 1/1',
        'telemetry ok 1/1',
        'statsd-prom-bridge ok 1/1',
        'tracing ok 1/1',
        'citadel ok 1/1',
        'sidecar-injector ok 1/1',
        'galley ok 1/1',
        'ingressgateway ok 1/1',
        'egressgateway ok 1/1',
      ],
    );
    assert.equal(component(r, 'icp', 'pilot').pods[0]?.ready, '2/2');
    assert.deepEqual(icp.remoteSecrets, [
      { remote: 'iks', looked: ['iriscluster'], configured: true, secret: 'iriscluster' },
    ]);
    assert.deepEqual(icp.dataPlane?.namespaces, [{ name: 'default', injection: 'istio-injection=enabled' }]);
    assert.equal(icp.dataPlane?.pods, icp.dataPlane?.withReadySidecar);
    assert.equal(icp.dataPlane?.optedOut, 0);
    assert.equal(icp.dataPlane?.notInjected, 4, 'the VPN pod and the three routes pods (hostNetwork)');
    const iks = cluster(r, 'iks');
    assert.deepEqual(
      iks.components.map((c) => `${c.name} ${c.health}`),
      ['citadel ok', 'sidecar-injector ok'],
    );
    assert.deepEqual(iks.drift, []);
    assert.ok(r.clusters.every((c) => c.health === 'healthy' && c.reachable));
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r, 'the report survives JSON unchanged');
  });

  it('telemetry in CrashLoopBackOff (OOMKilled): degraded, named with restarts and the exit reason', async () => {
    sim.mesh.faults.crashLoop(
      'icp',
      'istio-system',
      { labelSelector: 'istio-mixer-type=telemetry' },
      { container: 'mixer', reason: 'OOMKilled' },
    );
    const r = await sim.check();
    assert.equal(r.health, 'degraded');
    assert.deepEqual(r.top, ['icp/component/telemetry']);
    const f = find(r, 'icp/component/telemetry');
    assert.match(
      f.text,
      /^icp: telemetry down — 0\/1 ready: istio-telemetry-\S+ 1\/2 CrashLoopBackOff, restarts 1 \(\d+s ago\), last exit OOMKilled$/,
    );
    assert.match(f.action ?? '', /mixer ran out of memory: raise its memory limit/);
    const pod = component(r, 'icp', 'telemetry').pods[0]!;
    assert.equal(pod.status, 'CrashLoopBackOff');
    assert.equal(pod.recentRestart, true);
    assert.equal(pod.lastTermination?.reason, 'OOMKilled');
    assert.ok(!r.findings.some((x) => x.area === 'drift'), 'a crash-looping pod keeps its address: no drift');
    assert.equal(cluster(r, 'iks').health, 'healthy');
  });

  it('reviews-v3 with an unready sidecar: the workload on iks is named', async () => {
    sim.mesh.faults.setContainerReady('iks', 'default', { labelSelector: 'app=reviews,version=v3' }, false, {
      container: 'istio-proxy',
    });
    const r = await sim.check();
    assert.equal(r.health, 'degraded');
    const f = find(r, 'iks/sidecars/unready');
    assert.match(
      f.text,
      /^iks: istio-proxy not ready in 1 of 1 pod in the mesh — default\/reviews-v3-\S+ 1\/2 Running$/,
    );
    assert.deepEqual(r.top, [f.id]);
    const dp = cluster(r, 'iks').dataPlane!;
    assert.equal(dp.withReadySidecar, dp.pods - 1);
    assert.deepEqual(
      dp.problems.map((p) => [p.workload, p.problem]),
      [['reviews-v3', 'unready']],
    );
    assert.equal(cluster(r, 'icp').health, 'healthy');
  });

  it('a missing component is a failure', async () => {
    await sim.mesh.faults.scaleDeployment('icp', 'istio-system', 'istio-galley', 0);
    const r = await sim.check();
    assert.equal(r.health, 'degraded');
    assert.equal(component(r, 'icp', 'galley').health, 'missing');
    assert.equal(
      find(r, 'icp/component/galley').text,
      'icp: galley missing — no pod matches istio=galley in istio-system',
    );
  });

  it('the remote secret missing on the primary: which key names it and how to list the candidates', async () => {
    await sim.admin
      .get('icp')!
      .core.deleteNamespacedSecret({ name: 'iriscluster', namespace: 'istio-system' });
    const r = await sim.check();
    assert.equal(r.health, 'degraded');
    assert.deepEqual(cluster(r, 'icp').remoteSecrets, [
      { remote: 'iks', looked: ['iriscluster'], configured: true },
    ]);
    const f = find(r, 'icp/remote-secret/iks');
    assert.match(
      f.text,
      /^icp: no remote secret for iks — looked for "iriscluster" in istio-system \(clusters\[\]\.remoteSecret\); pilot does not see/,
    );
    assert.match(f.action ?? '', /kubectl get secret -n istio-system -l istio\/multiCluster=true/);
    assert.match(f.action ?? '', /set clusters\[\]\.remoteSecret of iks/);
    assert.match(
      f.action ?? '',
      /create secret generic iks --from-file=iks=.*label secret iks istio\/multiCluster=true/,
    );
    const scoped = await sim.check('iks');
    assert.ok(
      scoped.findings.some((x) => x.id === 'icp/remote-secret/iks'),
      'asked about iks, its secret is judged',
    );
  });

  it("the seed's secret name unconfigured: both default names are tried and the key to set is named", async () => {
    // RBAC that names the secrets this config reads (the defaults), as deploy/rbac/primary.yaml asks.
    const rbac = (role: 'primary' | 'remote') =>
      shippedRbac(role).map((text) =>
        text.replace(
          /resourceNames: \["iriscluster", "istio-remote-secret-iks"\]/,
          'resourceNames: ["iks", "istio-remote-secret-iks"]',
        ),
      );
    const unconfigured = await startStatusSim({
      scenario: sim.mesh.scenario,
      // No timeout is under test here: a loaded machine's slow secret read must not read as "not checked".
      extraConfig: 'checks:\n  clusterTimeout: 10s\n',
      remoteSecrets: false,
      rbac: { icp: rbac('primary'), iks: rbac('remote') },
    });
    try {
      const r = await unconfigured.check();
      const f = find(r, 'icp/remote-secret/iks');
      assert.match(f.text, /looked for "iks" and "istio-remote-secret-iks" in istio-system; pilot/);
      assert.match(f.action ?? '', /kubectl get secret -n istio-system -l istio\/multiCluster=true/);
    } finally {
      await unconfigured.close();
    }
  });

  it('a secret name the RBAC does not grant: not checked, with the grant to add', async () => {
    const unconfigured = await startStatusSim({
      scenario: sim.mesh.scenario,
      // No timeout is under test here: a loaded machine's slow secret read must not read as "not checked".
      extraConfig: 'checks:\n  clusterTimeout: 10s\n',
      remoteSecrets: false,
      // Not the shipped files' usage record: this test provokes a 403 on purpose.
      rbac: { icp: shippedRbac('primary'), iks: shippedRbac('remote') },
    });
    try {
      const r = await unconfigured.check();
      const f = find(r, 'icp/not-checked/remote-secrets');
      assert.match(
        f.text,
        /403 Forbidden: secrets "iks" is forbidden: User "system:serviceaccount:meshops-access:meshops" cannot get resource "secrets"/,
      );
      assert.match(
        f.action ?? '',
        /set clusters\[\]\.remoteSecret of each remote to its secret, then re-apply the Role meshops-remote-secrets on the primary as npm run rbac -- --config <meshops config> renders it/,
      );
    } finally {
      await unconfigured.close();
    }
  });

  it('a remote secret whose kubeconfig points at another API server; its token is never shown', async () => {
    const icpKubeconfig = readFileSync(sim.mesh.kubeconfigPath('icp'), 'utf8');
    await sim.admin.get('icp')!.core.patchNamespacedSecret(
      {
        name: 'iriscluster',
        namespace: 'istio-system',
        body: { data: { iriscluster: Buffer.from(icpKubeconfig).toString('base64') } },
      },
      sim.admin.get('icp')!.mergePatch(),
    );
    const r = await sim.check();
    const f = find(r, 'icp/remote-secret/iks');
    const icpUrl = sim.mesh.clusters.get('icp')!.url;
    const iksUrl = sim.mesh.clusters.get('iks')!.url;
    assert.equal(
      f.text,
      `icp: remote secret iriscluster for iks holds API server ${icpUrl}, not iks's ${iksUrl} — pilot may be reading another cluster as iks`,
    );
    const token = sim.mesh.clusters.get('icp')!.token;
    assert.doesNotMatch(JSON.stringify(r), new RegExp(token));
  });

  it('pods the injector never touches are not missing sidecars; a pod truly without one is, and no advice restarts the VPN', async () => {
    const r = await sim.check();
    for (const c of r.clusters) assert.deepEqual(c.dataPlane?.problems, [], `${c.name}: nothing missing`);
    // A Deployment whose pods predate the namespace's injection label, like the VPN pod's.
    const iks = sim.mesh.clusters.get('iks')!.state;
    iks.controller.createWorkload(
      {
        kind: 'Deployment',
        name: 'legacy',
        namespace: 'default',
        replicas: 1,
        labels: { app: 'legacy' },
        containers: [{ name: 'legacy', image: 'docker.io/library/nginx:1.27' }],
        age: '40d',
        ping: 'iputils',
        strongswan: false,
        strongswanFrontEnd: 'stroke',
        hostNetwork: false,
        createdBeforeInjection: true,
      },
      Date.now(),
    );
    await sim.mesh.settled();
    const after = await sim.check();
    const f = find(after, 'iks/sidecars/missing');
    assert.match(
      f.text,
      /^iks: 1 of \d+ pods in the mesh run without an istio-proxy sidecar — default\/legacy-/,
    );
    assert.match(f.action ?? '', /rollout restart deployment\/legacy\)$/);
    for (const x of after.findings) assert.doesNotMatch(`${x.text} ${x.action ?? ''}`, /strongswan/);
  });

  it('drift after restarting pilot: the remote config, Endpoints and sidecars still hold the old IP', async () => {
    const [change] = await sim.mesh.faults.restartPod('icp', 'istio-system', {
      labelSelector: 'istio=pilot',
    });
    const old = change!.before.ip!;
    const now = change!.after!.ip!;
    assert.notEqual(old, now);
    const r = await sim.check();
    assert.equal(r.health, 'degraded');
    assert.deepEqual(r.top, ['iks/drift/pilot']);
    const f = find(r, 'iks/drift/pilot');
    assert.equal(
      f.text,
      `iks: sidecars point at pilot ${old}, pilot now runs at ${now} (drift) — new sidecars get no configuration from pilot and never become ready; running ones keep their last routes and endpoints`,
    );
    const svc = await sim.clusters
      .get('icp')!
      .core.readNamespacedService({ name: 'istio-pilot', namespace: 'istio-system' });
    assert.match(f.action ?? '', new RegExp(`global\\.remotePilotAddress=${now.replaceAll('.', '\\.')}`));
    assert.match(f.action ?? '', /restart the injected pod on iks .*\(default\/reviews-v3-/);
    assert.match(
      f.action ?? '',
      new RegExp(`Service address ${svc.spec!.clusterIP!.replaceAll('.', '\\.')}`),
    );
    const drift = cluster(r, 'iks').drift!;
    assert.deepEqual(
      drift.map((d) => [
        d.object.replace(/reviews-v3-\S+/, 'reviews-v3-*'),
        d.field,
        d.configured,
        d.suggested,
      ]),
      [
        [
          'ConfigMap istio-system/istio',
          'mesh: defaultConfig.discoveryAddress',
          `${old}:15007`,
          `${now}:15007`,
        ],
        ['Endpoints istio-system/istio-pilot', 'subsets[0].addresses[0].ip', old, now],
        ['Pod default/reviews-v3-*', 'istio-proxy --discoveryAddress', `${old}:15007`, `${now}:15007`],
      ],
    );
    assert.ok(drift.every((d) => d.remote === 'iks' && d.primary === 'icp' && d.component === 'pilot'));
    assert.equal(cluster(r, 'icp').health, 'healthy', 'the primary itself is fine');
  });

  it('pilot down explains the drift: down, with the drift listed under its cause', async () => {
    await sim.mesh.faults.scaleDeployment('icp', 'istio-system', 'istio-pilot', 0);
    const r = await sim.check();
    assert.equal(r.health, 'down');
    assert.deepEqual(r.top, ['icp/component/pilot']);
    assert.equal(find(r, 'icp/component/pilot').severity, 'critical');
    const drift = find(r, 'iks/drift/pilot');
    assert.equal(drift.causedBy, 'icp/component/pilot');
    assert.match(
      drift.text,
      /but pilot has no pod on icp \(drift\) — new sidecars get no configuration from pilot/,
    );
  });

  it('a cluster answering 503 is reported as such and hides nothing on the other', async () => {
    sim.mesh.faults.setUnavailable('iks', true);
    const r = await sim.check();
    assert.equal(r.health, 'degraded');
    const iks = cluster(r, 'iks');
    assert.equal(iks.reachable, false);
    assert.equal(iks.health, 'down');
    assert.equal(iks.failure?.kind, 'server-error');
    assert.match(find(r, 'iks/reachability').text, /^iks: not reachable — 503 from the API server/);
    assert.equal(cluster(r, 'icp').health, 'healthy');
    assert.equal(cluster(r, 'icp').components.length, 10);
    assert.deepEqual(
      r.findings.map((f) => f.id),
      ['iks/reachability'],
      'nothing else is claimed about a cluster that did not answer',
    );
  });

  it('a cluster timing out is cut off at its own timeout while the other is reported', async () => {
    sim.mesh.faults.setApiLatency('iks', 5_000);
    const r = await sim.check();
    const iks = cluster(r, 'iks');
    assert.equal(iks.failure?.kind, 'timeout');
    assert.equal(find(r, 'iks/reachability').text, 'iks: not reachable — timed out after 1000 ms');
    assert.equal(cluster(r, 'icp').health, 'healthy');
    assert.equal(r.health, 'degraded');
  });

  it('a revoked token on the primary: down, and the remote drift check says why it did not run', async () => {
    sim.mesh.faults.revokeToken('icp');
    const r = await sim.check();
    assert.equal(r.health, 'down');
    assert.deepEqual(r.top, ['icp/reachability']);
    const f = find(r, 'icp/reachability');
    assert.match(f.text, /^icp: not reachable — 401 Unauthorized: the token was rejected/);
    assert.match(f.action ?? '', /issue a new one/);
    assert.equal(find(r, 'iks/not-checked/drift').causedBy, 'icp/reachability');
    assert.equal(cluster(r, 'iks').reachable, true, 'the remote is still reported');
    assert.equal(cluster(r, 'iks').components.length, 2);
  });

  it('asked about one cluster, reports only that one (the primary is asked for the remote’s drift)', async () => {
    const [change] = await sim.mesh.faults.restartPod('icp', 'istio-system', {
      labelSelector: 'istio=pilot',
    });
    const iks = await sim.check('iks');
    assert.equal(iks.cluster, 'iks');
    assert.deepEqual(
      iks.clusters.map((c) => c.name),
      ['iks'],
    );
    assert.match(
      find(iks, 'iks/drift/pilot').text,
      new RegExp(`now runs at ${change!.after!.ip!.replaceAll('.', '\\.')}`),
    );
    const icp = await sim.check('icp');
    assert.deepEqual(
      icp.clusters.map((c) => c.name),
      ['icp'],
    );
    assert.equal(icp.health, 'healthy', 'drift belongs to the remote, not the primary');
    await assert.rejects(sim.check('nosuch'), /unknown cluster "nosuch"; configured: icp, iks/);
  });
});
