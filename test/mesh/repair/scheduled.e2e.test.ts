import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../helpers/wait.ts';
import { ALICE, BOB, startWorld, text, type World } from './world.ts';

const schedule = (autoRepair: 'off' | 'propose') => `
schedules:
  - name: health
    cron: "0 0 1 1 *"
    timezone: UTC
    channel: C0HEALTH
    checks: [status]
    mode: every-run
drift:
  autoRepair: ${autoRepair}
`;

async function runSchedule(w: World, channel: string) {
  const posts = w.h.parents('C0HEALTH').length;
  await w.h.command('schedule run health', { user: BOB, channel });
  await w.h.waitForVerdict(channel, '/mesh schedule run health', 30_000);
  await waitFor('the scheduled post', () => w.h.parents('C0HEALTH').length > posts, 30_000);
}

describe('drift.autoRepair: propose', () => {
  let w: World;
  before(async () => {
    w = await startWorld('repair-propose', { extra: schedule('propose') });
  });
  after(() => w.close());

  it('a scheduled run that finds drift posts the repair plan for approval, once, by meshops (scheduled)', async () => {
    const [moved] = await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    await runSchedule(w, 'C0RUN1');
    const proposal = await w.approval('C0HEALTH');
    const shown = text(proposal.message);
    assert.match(shown, /Approval needed: Repair drift on iks/);
    assert.match(shown, /Requested by\* meshops \(scheduled\)/);
    assert.ok(shown.includes(`+  discoveryAddress: ${moved!.after!.ip}:15007`), shown);
    assert.match(shown, /"action_id":"mesh\.reject"/);

    // The next run finds the same drift while the plan is pending: nothing new is proposed.
    await runSchedule(w, 'C0RUN2');
    assert.equal(w.approvals('C0HEALTH').length, 1);

    // meshops is the requester, so any approver may approve, ALICE included.
    await w.approve('C0HEALTH', proposal, ALICE);
    await waitFor('the proposal applied', () => /Applied\* at/.test(w.message('C0HEALTH', proposal.ts).text));
    assert.match(
      w.message('C0HEALTH', proposal.ts).text,
      /requested by meshops \(scheduled\), approved by <@U0ALICE>/,
    );
    assert.deepEqual(await w.pilotEndpoints(), [moved!.after!.ip]);
    const restart = await w.approval('C0HEALTH', 2);
    assert.match(text(restart.message), /Requested by\* meshops \(scheduled\)/);
    await w.h.command('audit 20', { user: BOB, channel: 'C0AUDIT' });
    const audit = await w.h.waitForVerdict('C0AUDIT', '/mesh audit 20', 30_000);
    const entries = w.h.thread('C0AUDIT', audit.ts).map(text).join('\n');
    assert.match(entries, /\*requested\* iks by meshops \(scheduled\)/);
  });
});

describe('drift.autoRepair: off (the default)', () => {
  let w: World;
  before(async () => {
    w = await startWorld('repair-report', { extra: schedule('off') });
  });
  after(() => w.close());

  it('a scheduled run that finds drift only reports it', async () => {
    await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    await runSchedule(w, 'C0RUN');
    assert.match(text(w.h.parents('C0HEALTH').at(-1)!), /drift/);
    assert.deepEqual(w.approvals('C0HEALTH'), []);
  });
});
