import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { KnownBlock } from '@slack/types';
import { runCommand } from '../../helpers/commands.ts';
import { type Harness, startHarness } from '../../helpers/harness.ts';
import { blocksText, limitViolations } from '../../helpers/slack-limits.ts';
import { type StatusSim, startStatusSim } from './sim.ts';

/** `/mesh status` as a user runs it: a signed slash command in, the thread reply and verdict out. */
describe('/mesh status end to end (Slack → queue → worker → simulated clusters → thread)', () => {
  let sim: StatusSim;
  let h: Harness;
  before(async () => {
    sim = await startStatusSim();
    h = await startHarness({ configYaml: sim.configYaml, configDir: sim.dir, label: 'status' });
  });
  afterEach(() => sim.mesh.faults.reset());
  after(async () => {
    await h.close();
    await sim.close();
  });

  const run = (text: string, channel: string) => runCommand(h, text, channel);

  it('healthy mesh: the parent shows the verdict, the thread the report', async () => {
    const { parent, replies, text } = await run('status', 'C0HEALTHY');
    assert.match(parent.text, /\*healthy\*: 2 clusters: 12 components ready, \d+ sidecars ready, no drift/);
    assert.equal(replies.length, 1);
    assert.match(text, /Mesh status: healthy/);
    assert.match(text, /\*icp\* \(primary · istio-1\.0 · istio-system\) — 10\/10 components ready/);
    assert.match(text, /\*iks\* \(remote · istio-1\.0 · istio-system\) — 2\/2 components ready/);
  });

  it('drift after a pilot restart: degraded, the drift on top of the thread reply', async () => {
    const [change] = await sim.mesh.faults.restartPod('icp', 'istio-system', {
      labelSelector: 'istio=pilot',
    });
    const { parent, text } = await run('status iks', 'C0DRIFT');
    const line = `iks: sidecars point at pilot ${change!.before.ip}, pilot now runs at ${change!.after!.ip} (drift) — new sidecars get no configuration from pilot and never become ready; running ones keep their last routes and endpoints`;
    assert.ok(parent.text.includes(`*degraded*: ${line}`), parent.text);
    assert.match(text, /Status of iks: degraded/);
    assert.ok(text.includes(`*What matters most*\n• ${line}`), text);
  });

  it('says what changed since the previous run: pilot restarted, the remote sidecar lost it, the verdict', async () => {
    await run('status', 'C0HIST1');
    await sim.mesh.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const { replies } = await run('status', 'C0HIST2');
    const first = blocksText(replies[0]!.blocks as KnownBlock[]);
    assert.match(first, /\*Since the previous check\* \(<!date\^\d+\^/, 'in the first reply, with the time');
    assert.match(first, /:arrows_counterclockwise: `pilot` on icp restarted 1 time since <!date/);
    assert.match(first, /verdict healthy → degraded/);
    assert.match(first, /sidecars not connected to pilot 0 → 1/);
    assert.doesNotMatch(first, /`telemetry` on icp/, 'only what changed');

    const again = await run('status', 'C0HIST3');
    assert.doesNotMatch(again.text, /verdict healthy/, 'the verdict changed once');
    assert.match(again.text, /pilot` on icp restarted 1 time since .*\(0 since the previous check\)/);
  });

  it('/mesh status nosuch: a clear error naming the clusters, nothing queued', async () => {
    const res = await h.command('status nosuch', { channel: 'C0NOSUCH' });
    const body = JSON.parse(res.body) as { response_type: string; text: string };
    assert.equal(body.response_type, 'ephemeral');
    assert.match(body.text, /unknown cluster "nosuch"; configured: icp, iks/);
    assert.match(body.text, /\/mesh status \[cluster\]/);
    assert.equal(h.parents('C0NOSUCH').length, 0);
  });

  it('2,000 pods without a sidecar: every reply within Slack’s limits, nothing cut silently', async () => {
    await sim.mesh.faults.addPods('iks', 2000, { namespace: 'bulk' });
    // Labelled after the pods exist, so none has a sidecar: all 2,000 are findings.
    await sim.admin
      .get('iks')!
      .core.patchNamespace(
        { name: 'bulk', body: { metadata: { labels: { 'istio-injection': 'enabled' } } } },
        sim.admin.get('iks')!.mergePatch(),
      );
    const { parent, replies, text } = await run('status', 'C0BULK');
    assert.match(
      parent.text,
      /\*degraded\*: iks: 2000 of 2001 pods in the mesh run without an istio-proxy sidecar/,
    );
    assert.deepEqual(
      limitViolations(
        replies.map((m) => m.blocks as KnownBlock[]),
        replies[0]!.text,
      ),
      [],
    );
    assert.match(text, /\*Data plane on iks\*: 2000 pods of 2001 without a ready sidecar/);
    assert.match(text, /…and 1850 more pods: `kubectl get pods -n &lt;namespace&gt;` on iks lists them/);
  });
});
