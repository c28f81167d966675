import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KnownBlock } from '@slack/types';
import {
  codeBlock,
  dateRef,
  groupRef,
  linkRef,
  toMrkdwn,
  toPlainText,
  userRef,
} from '../../src/chat/mrkdwn.ts';
import type { ScheduleConfig } from '../../src/config/schema.ts';
import type { ApprovalRequest } from '../../src/mesh/change.ts';
import { judgeStatus } from '../../src/mesh/istio/check.ts';
import { makePlan } from '../../src/mesh/routing/plan.ts';
import type { VirtualServiceSpec } from '../../src/mesh/routing/types.ts';
import { renderCannotPost, renderRepairNotProposed, renderScheduleList } from '../../src/schedules/render.ts';
import { approvalMessage } from '../../src/slack/render/approval.ts';
import { renderAudit } from '../../src/slack/render/audit.ts';
import { renderClusters } from '../../src/slack/render/clusters.ts';
import { errorReply, verdictMessage } from '../../src/slack/render/parent.ts';
import { renderRepairReply, renderVerification } from '../../src/slack/render/repair.ts';
import {
  renderDiff,
  renderNotRequested,
  renderPresetList,
  renderRequested,
  renderShow,
} from '../../src/slack/render/routing.ts';
import { renderStatus } from '../../src/slack/render/status.ts';
import { renderRefusal, renderVpn } from '../../src/slack/render/vpn.ts';
import { pod, snapshot } from '../mesh/istio/snapshots.ts';

/** What a VirtualService's header match, a pod, an error or a user could carry to make meshops speak. */
const HOSTILE = '<!channel> <https://evil.example/sso|Approve here> & <@U0MALLORY> <!subteam^S0ALL>';

/** Every mrkdwn string a message carries, as Slack would receive it. */
function mrkdwnOf(message: { text?: string; blocks?: KnownBlock[] }): string[] {
  const out = message.text !== undefined ? [toMrkdwn(message.text)] : [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(message.blocks ?? []);
  return out;
}

/** The markup a hostile value would make live: a broadcast, a disguised link, a mention. */
const LIVE = /<!channel>|<https:\/\/evil|<@U0MALLORY>|<!subteam\^S0ALL>/;

function assertInert(name: string, message: { text?: string; blocks?: KnownBlock[] }): void {
  const texts = mrkdwnOf(message);
  assert.ok(
    texts.some((t) => t.includes('&lt;!channel&gt;')),
    `${name}: the hostile value is shown (escaped)`,
  );
  for (const t of texts) assert.doesNotMatch(t, LIVE, `${name} rendered a hostile value raw`);
}

const hostileVs: VirtualServiceSpec = {
  hosts: ['reviews'],
  http: [
    {
      match: [{ headers: { 'end-user': { exact: HOSTILE } } }],
      route: [{ destination: { host: 'reviews', subset: 'v2' } }],
    },
    { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
  ],
};
const ref = { namespace: 'default', name: 'reviews' };
const live = new Map([['default/reviews', { ref, resourceVersion: '7', spec: hostileVs }]]);
const schedule: ScheduleConfig = {
  name: 'morning',
  cron: '0 9 * * *',
  timezone: 'UTC',
  channel: 'C0HEALTH',
  checks: ['status'],
  mode: 'digest',
} as ScheduleConfig;

describe('mrkdwn', () => {
  it('escapes &, < and > everywhere; only meshops’ own tokens stay markup', () => {
    assert.equal(toMrkdwn(`a & b <!here> ${userRef('U0ALICE')}`), 'a &amp; b &lt;!here&gt; <@U0ALICE>');
    assert.equal(toMrkdwn(userRef('<!channel>')), '&lt;!channel&gt;', 'a user id that is not one is text');
    // A token made in another process (stored in Redis) loses its markup, never turns into a live one.
    assert.equal(toMrkdwn('\uE000AAAAAAAAAAAA\uE001!channel\uE002AAAAAAAAAAAA\uE003'), '!channel');
  });

  it('plain text (an image, alt text): names for mentions, the UTC form for dates, labels for links', async () => {
    const at = Date.UTC(2026, 11, 3, 14, 25);
    const text = `${userRef('U0ALICE')} and ${groupRef('S0OPS')} until ${dateRef(at)}, see ${linkRef('https://x.example/a', 'the <run>')} <@U0RAW>`;
    // A token written by another worker (another key), read back from Redis.
    const elsewhere = '\uE000abcdefghijkl\uE001@U0BOB\uE002abcdefghijkl\uE003';
    const names = new Map([
      ['U0ALICE', 'Alice'],
      ['U0BOB', 'Bob'],
    ]);
    assert.equal(
      await toPlainText(`${text} · ${elsewhere}`, async (u) => names.get(u) ?? u),
      'Alice and S0OPS until 2026-12-03 14:25 UTC, see the <run> <@U0RAW> · Bob',
    );
  });

  it('neutralises ``` inside a code block so the block cannot be closed early', () => {
    assert.equal(codeBlock('a ``` <!channel>').match(/```/g)?.length, 2);
  });

  it('hostile strings rendered raw: 0 across every renderer', () => {
    const plan = makePlan([{ ref, spec: { ...hostileVs, http: [hostileVs.http![1]!] } }], live, 'reviews-v1');
    const request: ApprovalRequest = {
      id: 'ap-1',
      kind: 'routing',
      requester: 'U0ALICE',
      channel: 'C1',
      title: 'Route apply reviews-v1',
      subject: 'reviews-v1',
      effect: [`*reviews*: end-user ${HOSTILE} → v2`],
      diff: plan.diff,
      planHash: plan.hash,
      checks: [{ level: 'fail', text: HOSTILE }],
      locks: [{ label: 'icp/default/reviews', key: 'k' }],
      bindings: [],
      payload: {},
      createdAt: 0,
      expiresAt: 60_000,
    } as unknown as ApprovalRequest;
    const rendered: [string, { text?: string; blocks?: KnownBlock[] }][] = [
      ['route show', renderShow({ ok: true, cluster: 'icp', virtualServices: live }, ['default'])],
      ['route list', renderPresetList([], { ok: false, cluster: 'icp', reason: HOSTILE }, [])],
      ['route diff', renderDiff('reviews-v1', 'icp', plan)],
      ['approval', approvalMessage(request, { state: 'pending' })],
      [
        'approval outcome',
        approvalMessage(request, { state: 'failed', decidedBy: 'U0BOB', outcome: HOSTILE }),
      ],
      [
        'status',
        renderStatus({
          ...judgeStatus([
            snapshot('icp', 'primary', { secrets: ['iks'] }),
            snapshot('iks', 'remote', {
              pods: { citadel: { ok: false, failure: { kind: 'forbidden', status: 403, reason: HOSTILE } } },
            }),
          ]),
          ms: 1,
        }),
      ],
      [
        'status pod',
        renderStatus({
          ...judgeStatus([snapshot('icp', 'primary', { workloads: [pod(HOSTILE, { proxy: 'unready' })] })]),
          ms: 1,
        }),
      ],
      [
        'vpn',
        renderVpn({
          scope: { kind: 'matrix' },
          checkedAt: '2026-11-27T10:00:00.000Z',
          durationMs: 1,
          verdict: 'degraded',
          summary: HOSTILE,
          settings: {
            count: 3,
            timeoutMs: 2000,
            concurrency: 16,
            thresholds: { lossPercent: 0, rttWarnMs: 100, rttChangePercent: 50 },
          },
          pairs: [['icp', 'iks']],
          tunnels: [],
          probes: [],
          nodeProbes: [],
          mtu: [],
          ports: [],
          routes: [{ cluster: 'iks', ok: false, problem: HOSTILE }],
          findings: [
            { id: 'vpn/x', area: 'not-checked', severity: 'warning', text: HOSTILE, raw: `\`\`\`${HOSTILE}` },
          ],
        } as never),
      ],
      ['ping refusal', renderRefusal(HOSTILE)],
      ['repair', renderRepairReply([{ kind: 'not-requested', remote: 'iks', reason: HOSTILE, checks: [] }])],
      [
        'repair verification',
        renderVerification({
          remote: 'iks',
          primary: 'icp',
          after: 'repair',
          status: { ok: false, reason: HOSTILE },
          vpn: { ok: false, reason: HOSTILE },
        } as never),
      ],
      ['schedules', renderCannotPost(schedule, HOSTILE)],
      [
        'schedule list',
        renderScheduleList([
          { schedule, next: 0, last: { at: 0, verdict: 'degraded', summary: HOSTILE } } as never,
        ]),
      ],
      [
        'audit',
        renderAudit(
          [
            {
              id: '1',
              at: 0,
              action: 'refused',
              who: HOSTILE,
              kind: 'routing',
              subject: HOSTILE,
              result: HOSTILE,
            },
          ],
          1,
          86_400_000,
        ),
      ],
      ['clusters', renderClusters([{ name: 'iks', role: 'remote', ok: false, reason: HOSTILE, ms: 1 }])],
      ['parent', verdictMessage(`/mesh route show ${HOSTILE}`, ['U0ALICE'], 'failed', HOSTILE, 1)],
      ['error', errorReply(HOSTILE, 'job-1')],
      [
        'route requested',
        renderRequested('Route apply x', plan, [{ level: 'warn', text: HOSTILE }], request),
      ],
      ['route not requested', renderNotRequested('Route apply x', HOSTILE)],
      ['repair not proposed', renderRepairNotProposed([HOSTILE], 'U0BOB')],
    ];
    for (const [name, message] of rendered) assertInert(name, message);
  });
});
