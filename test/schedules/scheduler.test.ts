import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Queue } from 'bullmq';
import { createScheduleHandler } from '../../src/jobs/schedule.ts';
import { SCHEDULE_JOB_OPTIONS, schedulerTemplate } from '../../src/schedules/sync.ts';
import { type Harness, startHarness, unreachableKubeconfig } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';
import { finding, handlersWith, jobContext, queueFor, settableChecks, tick } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshops-schedules-'));
unreachableKubeconfig(dir, 'icp');
const CONFIG = `
clusters:
  - name: icp
    role: primary
    kubeconfig: ./icp.kubeconfig
access:
  operators: [U0ALICE]
schedules:
  - name: morning
    cron: "0 9 * * 1-5"
    timezone: Europe/Berlin
    channel: C0DIGEST
    mention: S0ONCALL
  - name: every
    cron: "*/15 * * * *"
    timezone: UTC
    channel: C0EVERY
    checks: [status]
    mention: U0CAROL
    mode: every-run
  - name: quiet
    cron: "0 * * * *"
    timezone: UTC
    channel: C0QUIET
  - name: flaky
    cron: "0 * * * *"
    timezone: UTC
    channel: C0FLAKY
  - name: rate
    cron: "0 * * * *"
    timezone: UTC
    channel: C0RATE
`;

const blocksText = (m: { blocks: unknown[] }) => JSON.stringify(m.blocks);

describe('scheduled health posts through the queue and a worker', () => {
  let h: Harness;
  let queue: Queue;
  const mesh = settableChecks();

  before(async () => {
    h = await startHarness({
      configYaml: CONFIG,
      configDir: dir,
      label: 'sched',
      handlers: handlersWith(mesh.checks),
    });
    queue = queueFor(h.prefix);
  });
  after(async () => {
    await queue.close();
    await h.close();
  });

  it('upserts one job scheduler per schedule at start, with its cron and time zone', async () => {
    const schedulers = await queue.getJobSchedulers(0, -1, true);
    const byKey = new Map(schedulers.map((s) => [s.key, s]));
    assert.deepEqual([...byKey.keys()].sort(), [
      'health:every',
      'health:flaky',
      'health:morning',
      'health:quiet',
      'health:rate',
    ]);
    const morning = byKey.get('health:morning')!;
    assert.equal(morning.pattern, '0 9 * * 1-5');
    assert.equal(morning.tz, 'Europe/Berlin');
    assert.deepEqual(morning.template?.data, { type: 'schedule', name: 'morning', trigger: 'cron' });
    assert.equal(await queue.getDelayedCount(), 5, 'exactly one pending run per scheduler');
  });

  it('digest: the first run posts the day’s parent, later runs edit it in place, no thread while healthy', async () => {
    for (let i = 0; i < 3; i++) assert.equal(await tick(queue, 'morning'), 'completed');
    const parents = h.parents('C0DIGEST');
    assert.equal(parents.length, 1, 'one parent per channel per day');
    const [digest] = parents;
    assert.ok(digest!.edited, 'edited in place');
    assert.equal(
      h.slack.calls.filter((c) => c.method === 'chat.update' && c.args.channel === 'C0DIGEST').length,
      2,
    );
    assert.match(digest!.text, /Mesh health \(morning\): healthy at .* Europe\/Berlin/);
    assert.match(blocksText(digest!), /3 runs today · no changes today/);
    assert.equal(h.thread('C0DIGEST', digest!.ts).length, 0);
  });

  it('a state change gets one thread reply with the mention; a recovery one without it', async () => {
    const digest = h.parents('C0DIGEST')[0]!;
    mesh.degrade('status', finding('icp/component/telemetry', 'icp: istio-telemetry CrashLoopBackOff'));
    await tick(queue, 'morning');
    let thread = h.thread('C0DIGEST', digest.ts);
    assert.equal(thread.length, 1);
    assert.match(thread[0]!.text, /healthy → degraded\* <!subteam\^S0ONCALL>/);
    assert.match(blocksText(thread[0]!), /\*New\*.*istio-telemetry CrashLoopBackOff/);
    assert.match(digest.text, /degraded/, 'the parent shows the new verdict');

    await tick(queue, 'morning');
    assert.equal(h.thread('C0DIGEST', digest.ts).length, 1, 'the same state again: no reply');

    mesh.degrade(
      'status',
      finding('icp/component/telemetry', 'icp: istio-telemetry CrashLoopBackOff'),
      finding('icp/component/pilot', 'icp: istio-pilot 0/1 ready'),
    );
    await tick(queue, 'morning');
    thread = h.thread('C0DIGEST', digest.ts);
    assert.equal(thread.length, 2, 'a new finding is a change');
    assert.match(thread[1]!.text, /still \*degraded\*, with a new problem <!subteam\^S0ONCALL>/);
    assert.match(blocksText(thread[1]!), /istio-pilot 0\/1 ready/);
    assert.doesNotMatch(blocksText(thread[1]!), /\*New\*[^"]*telemetry/, 'names only what is new');

    mesh.healthy();
    await tick(queue, 'morning');
    thread = h.thread('C0DIGEST', digest.ts);
    assert.equal(thread.length, 3);
    assert.match(thread[2]!.text, /recovered\*: degraded → healthy/);
    assert.doesNotMatch(blocksText(thread[2]!), /subteam|<@/, 'no mention on the way up');
    assert.match(blocksText(thread[2]!), /\*Resolved\*.*telemetry.*pilot/);
    assert.equal(h.parents('C0DIGEST').length, 1);
    assert.match(blocksText(h.parents('C0DIGEST')[0]!), /7 runs today · 3 changes today/);
  });

  it('every-run mode posts each run, with the mention only on the way down', async () => {
    await tick(queue, 'every');
    mesh.degrade('status', finding('iks/drift/pilot', 'iks: pilot address drifted'));
    await tick(queue, 'every');
    await tick(queue, 'every');
    mesh.healthy();
    await tick(queue, 'every');
    const posts = h.parents('C0EVERY');
    assert.equal(posts.length, 4);
    assert.equal(
      h.slack.calls.filter((c) => c.method === 'chat.update' && c.args.channel === 'C0EVERY').length,
      0,
    );
    const mentions = posts.map((p) => /<@U0CAROL>/.test(blocksText(p)));
    assert.deepEqual(mentions, [false, true, false, false]);
    assert.match(blocksText(posts[3]!), /recovered/);
  });

  it('the same slot delivered to two workers at once is posted once', async () => {
    const slot = `repeat:health:every:${Date.now() - 1000}`;
    const contexts = [1, 2].map(() =>
      jobContext({
        config: h.meshops.config,
        prefix: h.prefix,
        slackUrl: h.slack.url,
        jobId: slot,
        logs: h.logs,
      }),
    );
    const handler = createScheduleHandler(mesh.checks);
    const before = h.parents('C0EVERY').length;
    try {
      const job = { type: 'schedule', name: 'every', trigger: 'cron' } as const;
      await Promise.all(contexts.map((ctx) => handler(job, ctx)));
      assert.equal(h.parents('C0EVERY').length, before + 1);
      await handler(job, contexts[0]!);
      assert.equal(h.parents('C0EVERY').length, before + 1, 'a later redelivery posts nothing');
      assert.match(h.logs.text(), /this slot was already posted/);
    } finally {
      for (const ctx of contexts) ctx.close();
    }
  });

  it('pause and resume: operators only, persisted, shown in the list; paused runs are skipped', async () => {
    const refused = await h.command('schedule pause quiet', { user: 'U0BOB', channel: 'C0OPS' });
    assert.match(JSON.parse(refused.body).text, /only by operators/);

    await h.command('schedule pause quiet', { user: 'U0ALICE', channel: 'C0OPS' });
    const paused = await h.waitForVerdict('C0OPS', '/mesh schedule pause quiet');
    assert.match(
      blocksText(h.thread('C0OPS', paused.ts)[0]!),
      /Paused `quiet`: its runs are skipped, not queued up/,
    );

    assert.equal(await tick(queue, 'quiet'), 'completed');
    assert.equal(await tick(queue, 'quiet'), 'completed');
    assert.equal(h.parents('C0QUIET').length, 0, 'paused runs post nothing');
    assert.match(h.logs.text(), /schedule is paused; run skipped/);

    await h.command('schedule pause quiet', { user: 'U0ALICE', channel: 'C0OPS2' });
    const again = await h.waitForVerdict('C0OPS2', '/mesh schedule pause quiet');
    assert.match(h.thread('C0OPS2', again.ts)[0]!.text, /already paused \(by <@U0ALICE>/);

    await h.command('schedule list', { channel: 'C0LIST' });
    const list = await h.waitForVerdict('C0LIST', '/mesh schedule list');
    assert.match(list.text, /5 schedules, 1 paused/);
    assert.match(blocksText(h.thread('C0LIST', list.ts)[0]!), /\*quiet\*.*\*paused\* by <@U0ALICE>/);

    await h.command('schedule resume quiet', { user: 'U0ALICE', channel: 'C0OPS3' });
    const resumed = await h.waitForVerdict('C0OPS3', '/mesh schedule resume quiet');
    assert.match(h.thread('C0OPS3', resumed.ts)[0]!.text, /Resumed `quiet`: the next run is/);
    await tick(queue, 'quiet');
    assert.equal(
      h.parents('C0QUIET').length,
      1,
      'the first run after resume posts; the skipped ones stay skipped',
    );
    assert.match(h.logs.text(), /audit: applied pause quiet[\s\S]*audit: applied resume quiet/);
    assert.equal(h.thread('C0QUIET', h.parents('C0QUIET')[0]!.ts).length, 0);
  });

  it('`schedule run` posts into the schedule’s channel now and confirms in the requester’s thread', async () => {
    const before = h.parents('C0EVERY').length;
    await h.command('schedule run every', { user: 'U0DAVE', channel: 'C0ASK' });
    const parent = await h.waitForVerdict('C0ASK', '/mesh schedule run every');
    assert.equal(h.parents('C0EVERY').length, before + 1);
    assert.match(blocksText(h.parents('C0EVERY').at(-1)!), /run now by <@U0DAVE>/);
    const [confirmation] = h.thread('C0ASK', parent.ts);
    assert.match(confirmation!.text, /Ran `every` now: .*healthy\* — posted in <#C0EVERY>/);
  });

  it('`schedule list` shows cron, time zone, next run and last verdict', async () => {
    await h.command('schedule list', { channel: 'C0LIST2' });
    const list = await h.waitForVerdict('C0LIST2', '/mesh schedule list');
    const text = blocksText(h.thread('C0LIST2', list.ts)[0]!);
    assert.match(
      text,
      /\*morning\* — digest into <#C0DIGEST> · `0 9 \* \* 1-5` Europe\/Berlin · checks: status, vpn · mentions <!subteam\^S0ONCALL> on degradation/,
    );
    assert.match(
      text,
      /next run: (Mon|Tue|Wed|Thu|Fri) \d{4}-\d\d-\d\d 09:00 Europe\/Berlin\\nlast verdict: :large_green_circle: \*healthy\* at /,
    );
    assert.match(text, /\*flaky\*.*last verdict: no run yet/);
  });

  it('a 429 on posting is waited out and retried; the post lands once', async () => {
    h.slack.fault({ method: 'chat.postMessage', channel: 'C0RATE', status: 429, retryAfter: 1 });
    assert.equal(await tick(queue, 'rate'), 'completed');
    assert.equal(h.parents('C0RATE').length, 1);
    assert.equal(
      h.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0RATE').length,
      2,
    );
    assert.match(
      h.logs.text(),
      /"method":"chat.postMessage","channel":"C0RATE".*Slack call failed; retrying/,
    );
  });

  it('a digest someone deleted is started again instead of failing every run until midnight', async () => {
    const gone = h.parents('C0RATE')[0]!;
    h.slack.messages.splice(h.slack.messages.indexOf(gone), 1);
    assert.equal(await tick(queue, 'rate'), 'completed');
    const [fresh] = h.parents('C0RATE');
    assert.ok(fresh && fresh.ts !== gone.ts);
    assert.match(h.logs.text(), /today's digest is gone; posting a new one/);
    assert.equal(await tick(queue, 'rate'), 'completed');
    assert.equal(h.parents('C0RATE').length, 1, 'and the new one is edited from then on');
  });

  it('not_in_channel: the job is retried with backoff, the error shows in the list, and the schedule goes on', async () => {
    h.slack.notInChannel.add('C0FLAKY');
    const template = schedulerTemplate('flaky');
    const job = await queue.add(template.name, template.data, {
      ...SCHEDULE_JOB_OPTIONS,
      jobId: 'flaky-run-1',
    });
    await waitFor('the first attempt to fail', async () => (await queue.getJob(job.id!))?.attemptsMade === 1);
    assert.match(h.logs.text(), /"code":"not_in_channel".*scheduled post failed/);

    await h.command('schedule list', { channel: 'C0LIST3' });
    const list = await h.waitForVerdict('C0LIST3', '/mesh schedule list');
    assert.match(list.text, /1 failing to post/);
    assert.match(
      blocksText(h.thread('C0LIST3', list.ts)[0]!),
      /\*flaky\*.*last posting error: `not_in_channel` at .*, attempt 1/,
    );

    h.slack.notInChannel.delete('C0FLAKY');
    await waitFor('the retry to post', () => h.parents('C0FLAKY').length === 1, 20_000);
    await waitFor('the job to complete', async () => (await queue.getJobState(job.id!)) === 'completed');

    await h.command('schedule list', { channel: 'C0LIST4' });
    const after = await h.waitForVerdict('C0LIST4', '/mesh schedule list');
    assert.match(blocksText(h.thread('C0LIST4', after.ts)[0]!), /`not_in_channel` .*\(posted fine since\)/);
  });
});
