import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Queue } from 'bullmq';
import { type SimMesh, startSimMesh } from '../../src/sim/index.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';
import { vpnConfigYaml } from '../mesh/vpn/sim.ts';
import { queueFor, tick } from './helpers.ts';

const SCHEDULES = `
schedules:
  - name: mesh-health
    cron: "0 8 * * *"
    timezone: Europe/Berlin
    channel: C0HEALTH
    mention: S0ONCALL
  - name: hourly
    cron: "0 * * * *"
    timezone: UTC
    channel: C0HOURLY
    checks: [status, proxies]
    mode: every-run
    mention: U0CAROL
`;

const blocksText = (m: { blocks: unknown[] }) => JSON.stringify(m.blocks);

/** The real status and VPN checks against the simulated clusters, driven by the same jobs a scheduler queues. */
describe('scheduled health posts against the simulated mesh', () => {
  let mesh: SimMesh;
  let h: Harness;
  let queue: Queue;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-sched-sim-'));
    mesh = await startSimMesh({ dir });
    h = await startHarness({
      configYaml: vpnConfigYaml(mesh, { extra: SCHEDULES }),
      configDir: dir,
      label: 'schedsim',
    });
    queue = queueFor(h.prefix);
  });
  after(async () => {
    await queue.close();
    await h.close();
    await mesh.close();
  });

  it('degrades, tells the thread once with the mention, and recovers without it', async () => {
    assert.equal(await tick(queue, 'mesh-health'), 'completed');
    const [digest] = h.parents('C0HEALTH');
    assert.ok(digest);
    assert.match(digest.text, /Mesh health \(mesh-health\): healthy at/);
    assert.match(blocksText(digest), /\*status\* — 2 clusters: 12 components ready/);
    assert.match(blocksText(digest), /\*vpn\* — /);
    // The day's first run starts the digest with the chart of the last 24 h in its thread (this run's data).
    const [chart, ...others] = h.thread('C0HEALTH', digest.ts);
    assert.equal(others.length, 0);
    const file = chart?.files?.[0];
    assert.equal(file?.mimetype, 'image/png');
    assert.equal(file?.title, 'Mesh health, last 24 h');
    const png = await fetch(file.url).then((r) => r.arrayBuffer());
    assert.ok(png.byteLength > 10_000, String(png.byteLength));
    const upload = h.slack.calls.find((c) => c.method === 'files.getUploadURLExternal');
    assert.match(
      String(upload?.args.alt_txt),
      /1 status, 1 VPN and 0 proxy runs: VPN loss \(worst probe\) and average RTT/,
    );

    mesh.faults.crashLoop('icp', 'istio-system', { labelSelector: 'istio-mixer-type=telemetry' });
    await tick(queue, 'mesh-health');
    await tick(queue, 'mesh-health');
    const replies = () => h.thread('C0HEALTH', digest.ts).filter((m) => !m.files);
    let thread = replies();
    assert.equal(thread.length, 1, 'one reply for the change, none for the same state again');
    assert.match(thread[0]!.text, /healthy → degraded\* <!subteam\^S0ONCALL>/);
    assert.match(blocksText(thread[0]!), /\*New\*.*telemetry/);
    assert.match(digest.text, /degraded/);

    mesh.faults.setTunnel('icp', 'iks', 'down');
    await tick(queue, 'mesh-health');
    thread = replies();
    assert.equal(thread.length, 2);
    assert.match(thread[1]!.text, /<!subteam\^S0ONCALL>/, 'a worse state mentions again');
    assert.match(blocksText(thread[1]!), /\*New\*.*tunnel/);

    await mesh.faults.reset();
    await mesh.settled();
    await tick(queue, 'mesh-health');
    thread = replies();
    assert.equal(thread.length, 3);
    assert.match(thread[2]!.text, /recovered\*: (degraded|down) → healthy/);
    assert.doesNotMatch(blocksText(thread[2]!), /subteam|<@/);
    assert.match(blocksText(thread[2]!), /\*Resolved\*.*telemetry/);
    assert.equal(h.parents('C0HEALTH').length, 1, 'still the one digest, edited in place');
    assert.match(blocksText(h.parents('C0HEALTH')[0]!), /5 runs today · 3 changes today/);
    assert.equal(h.thread('C0HEALTH', digest.ts).filter((m) => m.files).length, 1, 'one chart a day');
  });

  it('every-run mode with the status and proxy checks posts each run', async () => {
    await tick(queue, 'hourly');
    mesh.faults.crashLoop('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    await tick(queue, 'hourly');
    await mesh.faults.reset();
    const posts = h.parents('C0HOURLY');
    assert.equal(posts.length, 2);
    assert.doesNotMatch(blocksText(posts[0]!), /\*vpn\*/, 'only the configured checks run');
    assert.match(blocksText(posts[0]!), /\*proxies\* — \d+\/\d+ proxies in sync/);
    assert.equal(h.thread('C0HOURLY', posts[0]!.ts).length, 0, 'no chart without a digest');
    assert.match(blocksText(posts[1]!), /healthy → (degraded|down)\* <@U0CAROL>/);
    assert.match(blocksText(posts[1]!), /pilot/);
  });
});
