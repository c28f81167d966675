import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Verification } from '../../../src/mesh/routing/verify/watch.ts';
import { verifyBreachReply, verifyProgress } from '../../../src/slack/render/verify.ts';

const breach = 'reviews v3: 5xx 30.0 % > 5.0 %';

const reverted: Verification = {
  id: 'ap-1',
  label: 'reviews-v3',
  cluster: 'icp',
  profile: 'istio-1.0',
  channel: 'C1',
  threadTs: '1.1',
  requester: 'U0ALICE',
  approver: 'U0BOB',
  changedAt: 0,
  endsAt: 300_000,
  intervalMs: 30_000,
  windowMs: 300_000,
  thresholds: { maxErrorRate: 0.05, maxLatencyRatio: 2, minRequests: 20 },
  services: [],
  written: [],
  readings: [
    {
      at: 60_000,
      judgement: {
        verdict: 'breach',
        versions: [
          {
            service: 'reviews',
            version: 'v3',
            requests: 100,
            errorShare: 0.3,
            p99Ms: 40,
            baselineP99Ms: 30,
            latencyRatio: 1.3,
            verdict: 'breach',
            reasons: ['5xx 30.0 % > 5.0 %'],
          },
        ],
      },
    },
  ],
  state: 'reverted',
  outcome: `reverted: ${breach}`,
};

const mrkdwnOf = (m: { blocks: unknown[] }) => JSON.stringify(m.blocks);

test('a breach shows ">" once escaped for Slack, never as a visible "&gt;"', () => {
  for (const shown of [
    mrkdwnOf(verifyProgress(reverted)),
    mrkdwnOf(verifyBreachReply(reverted, breach, { kind: 'reverted', lines: ['reviews restored'] })),
  ]) {
    assert.match(shown, /30\.0 % &gt; 5\.0 %/);
    assert.doesNotMatch(shown, /&amp;/);
  }
});

test('counts read "1 request", not "1 requests"', () => {
  const one: Verification = {
    ...reverted,
    state: 'watching',
    thresholds: { ...reverted.thresholds, minRequests: 1 },
    readings: [
      {
        at: 60_000,
        judgement: {
          verdict: 'too-little',
          versions: [
            {
              service: 'reviews',
              version: 'v3',
              requests: 1,
              errorShare: 0,
              p99Ms: 40,
              baselineP99Ms: null,
              latencyRatio: null,
              verdict: 'too-little',
              reasons: [],
            },
          ],
        },
      },
    ],
  };
  const shown = mrkdwnOf(verifyProgress(one));
  assert.match(shown, /req\/s \(1 request\)/);
  assert.match(shown, /too little traffic to judge \(&lt; 1 request\)/);
  assert.match(shown, /judged from 1 request ·/);
  assert.doesNotMatch(shown, /1 requests/);
});
