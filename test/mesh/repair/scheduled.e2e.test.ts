import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../helpers/wait.ts';
import { queueFor, tick } from '../../schedules/helpers.ts';
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

async function runSchedule(w: World, channel: string, user: string) {
  const posts = w.h.parents('C0HEALTH').length;
  await w.h.command('schedule run health', { user, channel });
  await w.h.waitForVerdict(channel, '/mesh schedule run health', 30_000);
  await waitFor('the scheduled post', () => w.h.parents('C0HEALTH').length > posts, 30_000);
}

/** The ephemeral refusals `user` got in `channel`. */
const refusals = (w: World, channel: string, user: string) =>
  w.h.slack.messages.filter((m) => m.channel === channel && m.ephemeralFor === user).map((m) => m.text);

async function refusedTo(w: World, channel: string, user: string, pattern: RegExp) {
  await waitFor(`${user} to be refused`, () => refusals(w, channel, user).some((t) => pattern.test(t)));
}

describe('drift.autoRepair: propose', () => {
  let w: World;
  before(async () => {
    w = await startWorld('repair-propose', { extra: schedule('propose') });
  });
  after(() => w.close());

  it('a run started by someone not in access.operators proposes nothing, and says so', async () => {
    await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    await runSchedule(w, 'C0RUNBOB', BOB);
    const post = w.h.parents('C0HEALTH').at(-1)!;
    const note = await w.reply('C0HEALTH', post.ts, /No repair was proposed/);
    assert.match(text(note), /<@U0BOB> ran this schedule and is not in access\.operators/);
    assert.deepEqual(w.approvals('C0HEALTH'), [], 'a viewer cannot cause a repair request');
  });

  it('a run started by an operator is their request: they cannot approve it, someone else can', async () => {
    const [moved] = await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    await runSchedule(w, 'C0RUN1', ALICE);
    const proposal = await w.approval('C0HEALTH');
    const shown = text(proposal.message);
    assert.match(shown, /Approval needed: Repair drift on iks/);
    assert.match(shown, /Requested by\* <@U0ALICE>/);
    assert.ok(shown.includes(`+  discoveryAddress: ${moved!.after!.ip}:15007`), shown);

    // The next run finds the same drift while the plan is pending: nothing new is proposed.
    await runSchedule(w, 'C0RUN2', ALICE);
    assert.equal(w.approvals('C0HEALTH').length, 1);

    await w.approve('C0HEALTH', proposal, ALICE);
    await refusedTo(w, 'C0HEALTH', ALICE, /Four eyes: you requested "Repair drift on iks"/);
    await w.approve('C0HEALTH', proposal, BOB);
    await waitFor('the proposal applied', () => /Applied\* at/.test(w.message('C0HEALTH', proposal.ts).text));
    assert.match(w.message('C0HEALTH', proposal.ts).text, /requested by <@U0ALICE>, approved by <@U0BOB>/);
    assert.deepEqual(await w.pilotEndpoints(), [moved!.after!.ip]);
    // The restart it offers is ALICE's request too.
    const restart = await w.approval('C0HEALTH', 2);
    assert.match(text(restart.message), /Requested by\* <@U0ALICE>/);
    await w.reject('C0HEALTH', restart, BOB);
    const audit = (await w.audit()).find((e) => e.action === 'requested' && e.request === proposal.id);
    assert.equal(audit?.who, ALICE, 'the audit names who started it');
  });

  it('an unattended run is meshops’ request; whoever approves its repair cannot approve the restart it leads to', async () => {
    await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const before = w.approvals('C0HEALTH').length;
    const queue = queueFor(w.h.prefix);
    try {
      assert.equal(await tick(queue, 'health'), 'completed');
    } finally {
      await queue.close();
    }
    const proposal = await w.approval('C0HEALTH', before + 1);
    assert.match(text(proposal.message), /Requested by\* meshops \(scheduled\)/);
    await w.approve('C0HEALTH', proposal, ALICE);
    await waitFor('the proposal applied', () => /Applied\* at/.test(w.message('C0HEALTH', proposal.ts).text));

    const restart = await w.approval('C0HEALTH', before + 2);
    assert.match(text(restart.message), /Requested by\* meshops \(scheduled\) \(triggered by <@U0ALICE>\)/);
    await w.approve('C0HEALTH', restart, ALICE);
    await refusedTo(w, 'C0HEALTH', ALICE, /Four eyes: you triggered "Rolling restart on iks/);
    assert.match(text(w.message('C0HEALTH', restart.ts)), /mesh\.approve/, 'still open for someone else');
    const requested = (await w.audit()).find((e) => e.action === 'requested' && e.request === restart.id);
    assert.match(requested!.result, /triggered by U0ALICE/, 'the audit names the trigger');
    await w.reject('C0HEALTH', restart, BOB);
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
    await runSchedule(w, 'C0RUN', BOB);
    assert.match(text(w.h.parents('C0HEALTH').at(-1)!), /drift/);
    assert.deepEqual(w.approvals('C0HEALTH'), []);
  });
});
