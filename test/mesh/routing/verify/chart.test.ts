import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { renderChartSvg } from '../../../../src/charts/index.ts';
import { dateRef, userRef } from '../../../../src/chat/mrkdwn.ts';
import { type SlackApiStub, startSlackApi } from '../../../../src/console/slack-api.ts';
import { verificationChart } from '../../../../src/mesh/routing/verify/chart.ts';
import type { MetricsReader } from '../../../../src/mesh/routing/verify/read.ts';
import type { Verification } from '../../../../src/mesh/routing/verify/watch.ts';
import { createSlackClient } from '../../../../src/slack/poster.ts';
import { createUserNames } from '../../../../src/slack/users.ts';
import { BOT_TOKEN } from '../../../helpers/harness.ts';

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

const reader: MetricsReader = {
  where: 'http://prometheus.test',
  query: async () => [],
  queryRange: async (_expr, start, end, step) => [
    {
      labels: { destination_version: 'v3' },
      points: Array.from({ length: Math.floor((end - start) / step) }, (_, i) => [start + i * step, 10]),
    },
  ],
};

/** A verification as the worker keeps it in Redis between readings (JSON), breached with a revert it could not propose. */
const verification = (): Verification =>
  JSON.parse(
    JSON.stringify({
      id: 'ap-1',
      label: 'reviews-v3',
      cluster: 'icp',
      profile: 'istio-1.0',
      channel: 'C1',
      threadTs: '1.1',
      requester: 'U0ALICE',
      approver: 'U0BOB',
      changedAt: T0,
      endsAt: T0 + 300_000,
      intervalMs: 30_000,
      windowMs: 300_000,
      thresholds: { maxErrorRate: 0.05, maxLatencyRatio: 2, minRequests: 20 },
      services: [{ name: 'reviews', fqdn: 'reviews.default.svc.cluster.local', routed: ['v3'] }],
      written: [],
      readings: [],
      state: 'revert-proposed',
      outcome: `breached (reviews v3: 5xx 30.0 % > 5.0 %); no revert proposed: VirtualService default/reviews on icp is locked by ${userRef('U0CAROL')}'s request "Route apply all-v1" (ap-2), waiting for approval until ${dateRef(T0 + 600_000)}.`,
    } satisfies Verification),
  );

describe('the verification chart names people', () => {
  let slack: SlackApiStub;
  before(async () => {
    slack = await startSlackApi({
      users: new Map([
        ['U0ALICE', 'Alice Example'],
        ['U0BOB', 'Bob Approver'],
        ['U0CAROL', 'Carol Viewer'],
      ]),
    });
  });
  after(() => slack.close());

  const names = () => createUserNames(createSlackClient(BOT_TOKEN, slack.url, 3000));

  it('by their Slack names in the subtitle, never as ids or mrkdwn tokens', async () => {
    const spec = await verificationChart(verification(), reader, T0 + 300_000, names());
    assert.equal(
      spec.subtitle,
      'breached (reviews v3: 5xx 30.0 % > 5.0 %); no revert proposed: VirtualService default/reviews on icp is locked by Carol Viewer\'s request "Route apply all-v1" (ap-2), waiting for approval until 2026-12-03 10:10 UTC. · requested by Alice Example, approved by Bob Approver',
    );
    const svg = renderChartSvg(spec);
    for (const name of ['Alice Example', 'Bob Approver', 'Carol Viewer']) assert.ok(svg.includes(name), name);
    for (const token of ['U0ALICE', 'U0BOB', 'U0CAROL', '&lt;@', '!date^', '\uE000', '\uE002'])
      assert.ok(!svg.includes(token), `the SVG shows no ${JSON.stringify(token)}`);
  });

  it('by the bare id when Slack cannot name them', async () => {
    slack.fault({ method: 'users.info', error: 'ratelimited', times: 2 });
    const spec = await verificationChart(
      { ...verification(), outcome: 'passed' },
      reader,
      T0 + 300_000,
      names(),
    );
    assert.equal(spec.subtitle, 'passed · requested by U0ALICE, approved by U0BOB');
  });
});
