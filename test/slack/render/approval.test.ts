import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApprovalRequest } from '../../../src/mesh/change.ts';
import { approvalMessage } from '../../../src/slack/render/approval.ts';

const at = Date.UTC(2026, 11, 3, 14, 25, 40, 900);
const request: ApprovalRequest = {
  id: 'ap-1',
  kind: 'routing',
  title: 'Route apply reviews-v3',
  subject: 'reviews-v3',
  effect: ['reviews: everyone → v3'],
  diff: '',
  planHash: 'abcdef0123456789',
  checks: [],
  locks: [{ key: 'virtualservice/icp/default/reviews', label: 'VirtualService default/reviews on icp' }],
  bindings: [],
  payload: {},
  requester: 'U0ALICE',
  channel: 'C1',
  createdAt: at - 60_000,
  expiresAt: at,
};

const shown = (m: { blocks: unknown[] }) => JSON.stringify(m.blocks);

test('only a pending approval says the requester may withdraw it', () => {
  assert.match(shown(approvalMessage(request, { state: 'pending' })), /the requester may withdraw it/);
  const applied = shown(approvalMessage(request, { state: 'applied', decidedBy: 'U0BOB', decidedAt: at }));
  assert.doesNotMatch(applied, /withdraw/);
});

test('times fall back to one UTC form without seconds, as the parent message writes them', () => {
  const text = shown(approvalMessage(request, { state: 'applied', decidedBy: 'U0BOB', decidedAt: at }));
  assert.match(text, /\{time\}\|2026-12-03 14:25 UTC>/);
  assert.doesNotMatch(text, /T14:25|\.900Z/);
});

test('a diff one section too long says "1 more part … is" in the audit log', () => {
  // Each ``` section holds what fits under Slack's 3,000 characters; seven full ones are one over the six shown.
  const line = `  - ${'x'.repeat(96)}`;
  const diff = Array.from({ length: 7 * 29 }, () => line).join('\n');
  const text = shown(approvalMessage({ ...request, diff }, { state: 'pending' }));
  assert.match(text, /…1 more part of the diff is in the audit log/);
});
