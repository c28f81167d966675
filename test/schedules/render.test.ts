import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KnownBlock } from '@slack/types';
import { toMrkdwn } from '../../src/chat/mrkdwn.ts';
import type { ScheduleConfig } from '../../src/config/schema.ts';
import {
  mentionOf,
  type RunView,
  renderChange,
  renderDigest,
  renderRunPost,
  renderScheduleList,
} from '../../src/schedules/render.ts';
import { combine } from '../../src/schedules/report.ts';
import { compare } from '../../src/schedules/transition.ts';

const schedule: ScheduleConfig = {
  name: 'morning',
  cron: '0 9 * * 1-5',
  timezone: 'Europe/Berlin',
  channel: 'C0HEALTH',
  checks: ['status', 'vpn'],
  mention: 'S0ONCALL',
  mode: 'digest',
};
const at = Date.parse('2026-12-01T08:00:00Z'); // 09:00 in Berlin

const text = (blocks: KnownBlock[]) => JSON.stringify(blocks);

function view(findings: number, extra: Partial<RunView> = {}): RunView {
  return {
    schedule,
    at,
    next: at + 86_400_000,
    outcome: combine([
      {
        check: 'status',
        verdict: findings > 0 ? 'degraded' : 'healthy',
        summary: findings > 0 ? `${findings} problems` : 'all components ready',
        findings: Array.from({ length: findings }, (_, i) => ({
          id: `icp/component/c${i}`,
          severity: 'warning' as const,
          text: `icp: component c${i} <not ready> & restarting`,
        })),
      },
      { check: 'vpn', verdict: 'healthy', summary: 'tunnel up', findings: [] },
    ]),
    ...extra,
  };
}

describe('scheduled post rendering', () => {
  it('mentions users as <@U…> and user groups as <!subteam^S…>', () => {
    assert.equal(toMrkdwn(mentionOf('U0ALICE')), '<@U0ALICE>');
    assert.equal(toMrkdwn(mentionOf('W0ALICE')), '<@W0ALICE>');
    assert.equal(toMrkdwn(mentionOf('S0ONCALL')), '<!subteam^S0ONCALL>');
  });

  it('a digest shows the verdict, the time in the zone, each check and today’s counts', () => {
    const m = renderDigest(view(1), { runs: 3, changes: 1 });
    const all = text(m.blocks);
    assert.match(m.text, /morning.*degraded at Tue 2026-12-01 09:00 Europe\/Berlin/);
    assert.match(all, /Mesh health · 2026-12-01/);
    assert.match(all, /\*degraded\* at 09:00 \(Europe\/Berlin\)/);
    assert.match(all, /\*status\* — 1 problems/);
    assert.match(all, /\*vpn\* — tunnel up/);
    assert.match(all, /3 runs today · 1 change today \(in the thread\)/);
    // cluster text is escaped for mrkdwn
    assert.match(all, /&lt;not ready&gt; &amp; restarting/);
    assert.doesNotMatch(all, /subteam/, 'the digest itself never mentions');
  });

  it('caps the findings a post lists and says how many more there are', () => {
    const m = renderDigest(view(40), { runs: 1, changes: 1 });
    const all = text(m.blocks);
    assert.match(all, /c9 /);
    assert.doesNotMatch(all, /c10 /);
    assert.match(all, /…and 30 more/);
    assert.ok(m.blocks.length <= 50);
  });

  it('says when a cron run is a catch-up after downtime, and who ran it by hand', () => {
    const late = text(
      renderDigest(view(0, { scheduledFor: at - 3 * 3600_000 }), { runs: 1, changes: 0 }).blocks,
    );
    assert.match(late, /catch-up of the 06:00 run missed while meshops was down/);
    const onTime = text(renderDigest(view(0, { scheduledFor: at - 2000 }), { runs: 1, changes: 0 }).blocks);
    assert.doesNotMatch(onTime, /catch-up/);
    assert.match(
      text(renderDigest(view(0, { requestedBy: 'U0BOB' }), { runs: 1, changes: 0 }).blocks),
      /run now by <@U0BOB>/,
    );
  });

  it('a change reply on the way down names the new problem and mentions the group', () => {
    const v = view(1);
    const t = compare({ verdict: 'healthy', findings: [], at: 0 }, v.outcome);
    const m = renderChange(v, t);
    assert.match(toMrkdwn(m.text), /healthy → degraded\* <!subteam\^S0ONCALL> at 09:00/);
    assert.match(text(m.blocks), /\*New\*\\n:warning: icp: component c0/);
  });

  it('a recovery reply names what was resolved and mentions nobody', () => {
    const before = view(1);
    const v = view(0);
    const t = compare({ verdict: 'degraded', findings: before.outcome.findings, at: 0 }, v.outcome);
    const m = renderChange(v, t);
    assert.match(m.text, /recovered\*: degraded → healthy/);
    assert.doesNotMatch(text(m.blocks), /subteam|<@/);
    assert.match(text(m.blocks), /\*Resolved\*\\n:white_check_mark: icp: component c0/);
  });

  it('without a configured mention, a degradation reply mentions nobody', () => {
    const v = { ...view(1), schedule: { ...schedule, mention: undefined } };
    const m = renderChange(v, compare(undefined, v.outcome));
    assert.doesNotMatch(text(m.blocks), /subteam|<@/);
  });

  it('an every-run post carries the change and the mention only when there is one', () => {
    const v = view(1);
    const down = renderRunPost(v, compare(undefined, v.outcome));
    assert.match(text(down.blocks), /healthy → degraded\* <!subteam\^S0ONCALL>/);
    const same = renderRunPost(
      v,
      compare({ verdict: 'degraded', findings: v.outcome.findings, at: 0 }, v.outcome),
    );
    assert.doesNotMatch(text(same.blocks), /subteam|→/);
  });

  it('the list shows cron, zone, next run, last verdict, paused and the last posting error', () => {
    const result = renderScheduleList([
      {
        schedule,
        next: at,
        last: { verdict: 'degraded', at: at - 3600_000, findings: [], summary: 'status: 1 problem' },
        paused: { by: 'U0ALICE', at: at - 7200_000 },
        error: { code: 'not_in_channel', at: at - 1800_000, attempt: 2, slot: 'cron-1' },
      },
      {
        schedule: { ...schedule, name: 'hourly', cron: '0 * * * *', timezone: 'UTC', mode: 'every-run' },
        next: at,
      },
    ]);
    const all = text(result.blocks);
    assert.equal(result.verdict, 'info');
    assert.equal(result.summary, '2 schedules, 1 paused, 1 failing to post');
    assert.match(
      all,
      /\*morning\* — digest into <#C0HEALTH> · `0 9 \* \* 1-5` Europe\/Berlin · checks: status, vpn/,
    );
    assert.match(
      all,
      /\*paused\* by <@U0ALICE> since Tue 2026-12-01 07:00 Europe\/Berlin — the run at Tue 2026-12-01 09:00 Europe\/Berlin will be skipped/,
    );
    assert.match(all, /last verdict: :large_yellow_circle: \*degraded\* at Tue 2026-12-01 08:00/);
    assert.match(
      all,
      /last posting error: `not_in_channel` at Tue 2026-12-01 08:30 Europe\/Berlin, attempt 2/,
    );
    assert.match(all, /\*hourly\* — every-run into <#C0HEALTH> · `0 \* \* \* \*` UTC/);
    assert.match(all, /next run: Tue 2026-12-01 08:00 UTC/);
    assert.match(all, /last verdict: no run yet/);
  });

  it('an empty list says how to add schedules', () => {
    assert.match(renderScheduleList([]).text, /schedules:/);
  });
});
