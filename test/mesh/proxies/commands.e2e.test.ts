import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KnownBlock } from '@slack/types';
import { runCommand } from '../../helpers/commands.ts';
import { type Harness, startHarness } from '../../helpers/harness.ts';
import { limitViolations } from '../../helpers/slack-limits.ts';
import { type StatusSim, startStatusSim } from '../istio/sim.ts';

/** `/mesh proxies` and `/mesh certs` as a user runs them: a signed slash command in, the thread reply out. */
describe('/mesh proxies and /mesh certs end to end', () => {
  let sim: StatusSim;
  let h: Harness;
  before(async () => {
    sim = await startStatusSim();
    h = await startHarness({ configYaml: sim.configYaml, configDir: sim.dir, label: 'proxies' });
  });
  after(async () => {
    await h.close();
    await sim.close();
  });

  async function run(text: string, channel: string) {
    const result = await runCommand(h, text, channel);
    for (const m of result.replies) assert.deepEqual(limitViolations([m.blocks as KnownBlock[]], m.text), []);
    return result;
  }

  it('/mesh proxies: each proxy with its four xDS states, grouped by cluster', async () => {
    const { parent, text } = await run('proxies', 'C0PROXIES');
    assert.match(parent.text, /\*healthy\*: (\d+)\/\1 proxies in sync/);
    assert.match(text, /\*icp\* \(primary\) — \d+\/\d+ in sync/);
    assert.match(text, /\*iks\* \(remote\) — 1\/1 in sync/);
    assert.match(
      text,
      /`reviews-v3-[a-z0-9]+-[a-z0-9]+\.default` CDS SYNCED · LDS SYNCED · EDS SYNCED \(100%\) · RDS SYNCED · 1\.0\.2/,
    );
  });

  it('/mesh certs iks: root and workload days, the sample cap said in the reply', async () => {
    const { parent, text } = await run('certs iks', 'C0CERTS');
    assert.match(parent.text, /\*healthy\*: root expires in \d+ days/);
    assert.match(text, /\*iks\* \(remote\) — 1 of 1 proxies read/);
    assert.match(text, /At most 20 proxies sampled per cluster/);
  });

  it('/mesh proxies nosuch: a clear error naming the clusters, nothing queued', async () => {
    const res = await h.command('proxies nosuch', { channel: 'C0NOSUCHP' });
    const body = JSON.parse(res.body) as { text: string };
    assert.match(body.text, /unknown cluster "nosuch"; configured: icp, iks/);
    assert.equal(h.parents('C0NOSUCHP').length, 0);
  });
});
