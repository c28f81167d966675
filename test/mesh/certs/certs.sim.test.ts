import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { runCertsCheck } from '../../../src/mesh/certs/check.ts';
import { type StatusSim, startStatusSim } from '../istio/sim.ts';

describe('/mesh certs against the simulated meshes', () => {
  describe('seed (Istio 1.0, mutual TLS off)', () => {
    let sim: StatusSim;
    const check = (cluster?: string) =>
      runCertsCheck({ config: sim.config, clusters: sim.clusters }, cluster ? { cluster } : {});
    before(async () => {
      sim = await startStatusSim({ extraConfig: 'checks:\n  clusterTimeout: 3s\n' });
    });
    afterEach(() => sim.mesh.faults.reset());
    after(() => sim.close());

    it('healthy: one root for both clusters, read from the mounted files since Envoy holds no TLS context', async () => {
      const r = await check();
      assert.equal(r.health, 'healthy', JSON.stringify(r.findings, null, 1));
      assert.equal(r.sharedRoot, true);
      for (const c of r.clusters) {
        assert.equal(c.roots.length, 1);
        assert.ok(c.roots[0]!.days > 200);
        assert.ok(c.readings.every((x) => x.ok && x.source === 'pem'));
      }
      assert.ok(r.clusters[0]!.worstWorkload!.cert.days > 80);
      assert.match(r.summary, /one root for every cluster/);
      assert.equal(sim.mesh.controlPlane.keyReads, 0, 'no private key was read');
    });

    it('the root expiring in 5 days is critical, on every cluster that trusts it', async () => {
      sim.mesh.controlPlane.setCerts('icp', { rootExpiresInDays: 5 });
      sim.mesh.controlPlane.setCerts('iks', { rootExpiresInDays: 5 });
      const r = await check();
      assert.equal(r.health, 'down');
      const f = r.findings.find((x) => x.id === 'icp/certs/root');
      assert.ok(f);
      assert.equal(f.severity, 'critical');
      assert.match(f.text, /expires in [45] days/);
      assert.match(f.action ?? '', /1\.0\.8/);
    });

    it('a root 20 days from expiry warns; an expired one says mTLS fails', async () => {
      sim.mesh.controlPlane.setCerts('icp', { rootExpiresInDays: 20 });
      sim.mesh.controlPlane.setCerts('iks', { rootExpiresInDays: -3 });
      const r = await check();
      assert.equal(r.findings.find((x) => x.id === 'icp/certs/root')?.severity, 'warning');
      const iks = r.findings.find((x) => x.id === 'iks/certs/root');
      assert.equal(iks?.severity, 'critical');
      assert.match(iks?.text ?? '', /expired [34] days ago/);
    });

    it('clusters with their own roots do not chain to the same root: critical', async () => {
      sim.mesh.controlPlane.setCerts('iks', { trustGroup: 'iks-own' });
      const r = await check();
      assert.equal(r.sharedRoot, false);
      const f = r.findings.find((x) => x.id === 'mesh/certs/root-mismatch');
      assert.equal(f?.severity, 'critical');
    });

    it('with mutual TLS on, Envoy 1.0 lists its contexts as text and that is what is read', async () => {
      sim.mesh.controlPlane.setCerts('icp', { mutualTls: true });
      const r = await check('icp');
      assert.ok(r.clusters[0]!.readings.every((x) => x.ok && x.source === 'envoy-1.0'));
      assert.equal(r.clusters[0]!.roots.length, 1);
    });

    it('the sample is capped per cluster, one pod per workload first, and says so', async () => {
      const r = await runCertsCheck({
        config: { ...sim.config, checks: { ...sim.config.checks, certSample: 2 } },
        clusters: sim.clusters,
      });
      const icp = r.clusters.find((c) => c.name === 'icp')!;
      assert.equal(icp.readings.length, 2);
      assert.ok(icp.sidecars > 2);
      assert.equal(new Set(icp.readings.map((x) => x.pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, ''))).size, 2);
      assert.ok(r.findings.some((f) => f.id === 'icp/certs/sampled'));
    });

    it('exec refused: not checked, with the grant to add', async () => {
      sim.mesh.faults.forbidExec('iks', 'default');
      const r = await check('iks');
      const f = r.findings.find((x) => x.id === 'iks/certs/read');
      assert.equal(f?.severity, 'warning');
      assert.match(f?.action ?? '', /pods\/exec/);
    });
  });

  describe('modern (SDS certificates, JSON /certs)', () => {
    let sim: StatusSim;
    before(async () => {
      sim = await startStatusSim({ scenario: 'modern', extraConfig: 'checks:\n  clusterTimeout: 3s\n' });
    });
    after(() => sim.close());

    it("reads Envoy's JSON through pilot-agent; the root is shared", async () => {
      const r = await runCertsCheck({ config: sim.config, clusters: sim.clusters });
      assert.equal(r.health, 'healthy', JSON.stringify(r.findings, null, 1));
      assert.equal(r.sharedRoot, true);
      assert.ok(
        r.clusters.every(
          (c) => c.readings.length > 0 && c.readings.every((x) => x.ok && x.source === 'envoy'),
        ),
      );
    });
  });
});
