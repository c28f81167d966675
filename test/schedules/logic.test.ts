import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worstHealth } from '../../src/mesh/health.ts';
import { combine, failedReport } from '../../src/schedules/report.ts';
import { postingErrorCode, slotOf } from '../../src/schedules/run.ts';
import { clockTime, dateTime, dayKey, nextRun } from '../../src/schedules/timing.ts';
import { compare } from '../../src/schedules/transition.ts';
import { SlackApiError } from '../../src/slack/poster.ts';

const f = (id: string, severity: 'critical' | 'warning' | 'info' = 'warning') => ({ id, severity, text: id });

describe('state transitions between runs', () => {
  it('healthy → degraded is worse, names the new findings and mentions', () => {
    const t = compare(
      { verdict: 'healthy', findings: [], at: 0 },
      { verdict: 'degraded', findings: [f('a')] },
    );
    assert.equal(t.kind, 'worse');
    assert.deepEqual(
      t.added.map((x) => x.id),
      ['a'],
    );
    assert.equal(t.mention, true);
  });

  it('degraded → healthy is a recovery, names what was resolved, and does not mention', () => {
    const t = compare(
      { verdict: 'degraded', findings: [f('a')], at: 0 },
      { verdict: 'healthy', findings: [] },
    );
    assert.equal(t.kind, 'recovered');
    assert.deepEqual(
      t.resolved.map((x) => x.id),
      ['a'],
    );
    assert.equal(t.mention, false);
  });

  it('down → degraded is better but not recovered, without a mention', () => {
    const t = compare(
      { verdict: 'down', findings: [f('a'), f('b')], at: 0 },
      { verdict: 'degraded', findings: [f('b')] },
    );
    assert.equal(t.kind, 'better');
    assert.equal(t.mention, false);
  });

  it('a new finding at the same verdict is a change with a mention; the same findings are no change', () => {
    const prev = { verdict: 'degraded' as const, findings: [f('a')], at: 0 };
    const more = compare(prev, { verdict: 'degraded', findings: [f('a'), f('b')] });
    assert.equal(more.kind, 'new-findings');
    assert.deepEqual(
      more.added.map((x) => x.id),
      ['b'],
    );
    assert.equal(more.mention, true);
    const same = compare(prev, { verdict: 'degraded', findings: [{ ...f('a'), text: 'reworded, same id' }] });
    assert.equal(same.kind, 'none');
    assert.equal(same.mention, false);
  });

  it('a finding that only goes away while still degraded is no reply-worthy change', () => {
    const t = compare(
      { verdict: 'degraded', findings: [f('a'), f('b')], at: 0 },
      { verdict: 'degraded', findings: [f('a')] },
    );
    assert.equal(t.kind, 'none');
    assert.deepEqual(
      t.resolved.map((x) => x.id),
      ['b'],
    );
  });

  it('a first run that finds problems reports them as a change from healthy', () => {
    const t = compare(undefined, { verdict: 'down', findings: [f('x', 'critical')] });
    assert.equal(t.kind, 'worse');
    assert.equal(t.from, 'healthy');
    assert.equal(compare(undefined, { verdict: 'healthy', findings: [] }).kind, 'none');
  });

  it('the combined verdict is the worst, and finding ids are namespaced per check', () => {
    assert.equal(worstHealth(['healthy', 'degraded', 'failed']), 'failed');
    assert.equal(worstHealth(['degraded', 'down', 'failed']), 'down');
    assert.equal(worstHealth([]), 'healthy');
    const run = combine([
      { check: 'status', verdict: 'healthy', summary: 'ok', findings: [] },
      failedReport('vpn', 'timed out'),
    ]);
    assert.equal(run.verdict, 'failed');
    assert.deepEqual(
      run.findings.map((x) => x.id),
      ['vpn:check-failed'],
    );
  });
});

describe('run slots', () => {
  it('takes the slot from a scheduler job id and gives other jobs their own slot', () => {
    assert.deepEqual(slotOf('repeat:health:morning:1795852800000'), {
      slot: 'cron-1795852800000',
      scheduledFor: 1795852800000,
    });
    assert.deepEqual(slotOf('42'), { slot: 'job-42' });
  });

  it('names posting errors by their Slack code', () => {
    assert.equal(postingErrorCode(new SlackApiError('not_in_channel', 'chat.postMessage')), 'not_in_channel');
    assert.equal(postingErrorCode(new TypeError('x')), 'TypeError');
  });
});

describe('times in the schedule’s zone', () => {
  const monday9Berlin = Date.parse('2026-03-30T07:00:00Z'); // 09:00 CEST, the first weekday after the DST switch

  it('computes the next run with DST in the zone', () => {
    assert.equal(nextRun('0 9 * * 1-5', 'Europe/Berlin', Date.parse('2026-03-27T08:00:00Z')), monday9Berlin);
    assert.equal(
      nextRun('0 9 * * 1-5', 'UTC', Date.parse('2026-03-27T08:00:00Z')),
      Date.parse('2026-03-27T09:00:00Z'),
    );
    // strictly after: a run at its own slot gets the following one
    assert.equal(
      nextRun('0 * * * *', 'UTC', Date.parse('2026-03-27T08:00:00Z')),
      Date.parse('2026-03-27T09:00:00Z'),
    );
  });

  it('puts a run on the calendar day of its zone', () => {
    const lateUtc = Date.parse('2026-12-01T23:30:00Z');
    assert.equal(dayKey(lateUtc, 'UTC'), '2026-12-01');
    assert.equal(dayKey(lateUtc, 'Europe/Berlin'), '2026-12-02');
    assert.equal(dayKey(lateUtc, 'America/New_York'), '2026-12-01');
    assert.equal(clockTime(monday9Berlin, 'Europe/Berlin'), '09:00');
    assert.equal(dateTime(monday9Berlin, 'Europe/Berlin'), 'Mon 2026-03-30 09:00 Europe/Berlin');
  });
});
