import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditLine, renderAudit } from '../../../src/slack/render/audit.ts';
import { section } from '../../../src/slack/render/blocks.ts';

const shown = (result: string) =>
  (
    section(
      auditLine({
        id: '1-0',
        at: Date.UTC(2026, 11, 3, 14, 26, 5, 900),
        action: 'approved',
        who: 'U0BOB',
        kind: 'routing',
        subject: 'reviews-v3',
        result,
      }),
    ).text as { text: string }
  ).text;

test('the audit mentions the requester and approver instead of showing their raw ids', () => {
  assert.match(shown('approved; requested by U0ALICE'), /— approved; requested by <@U0ALICE>/);
  assert.match(
    shown('reverted: 5xx; requested by U0ALICE, approved by U0BOB'),
    /requested by <@U0ALICE>, approved by <@U0BOB>/,
  );
  assert.match(shown('UNAVAILABLE from pilot'), /— UNAVAILABLE from pilot/);
});

test('a one-day retention reads "1 day"', () => {
  const empty = renderAudit([], 10, 86_400_000);
  assert.equal(empty.text, 'No audit entries (entries are kept 1 day, audit.retention).');
  const one = renderAudit(
    [{ id: '1-0', at: 0, action: 'approved', who: 'U0BOB', kind: 'routing', subject: 'x', result: 'ok' }],
    10,
    86_400_000,
  );
  assert.equal(one.summary, 'latest 1 audit entry');
  assert.match(JSON.stringify(one.blocks), /kept 1 day \(audit\.retention\)/);
});
