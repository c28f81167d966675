import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createPermissions } from '../../src/access/permissions.ts';
import { approvalActions } from '../../src/approvals/actions.ts';
import type { ApprovalView } from '../../src/approvals/messages.ts';
import { approvalsFor } from '../../src/approvals/request.ts';
import { approvalStore } from '../../src/approvals/store.ts';
import {
  APPROVE_ACTION,
  type ApprovalDeps,
  type ChangeKind,
  type Decision,
  EXPIRE_ACTION,
  REJECT_ACTION,
} from '../../src/approvals/types.ts';
import type { EphemeralMessage, PostMessage, ReplyPort, UpdateMessage } from '../../src/chat/reply.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createClusters } from '../../src/kube/registry.ts';
import type { ApplyResult, ApprovalRequest, RecheckResult } from '../../src/mesh/change.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { ActionJob, MeshJob } from '../../src/queue/jobs.ts';
import { LogSink, unreachableMesh } from '../helpers/harness.ts';
import { auditOf, dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

/**
 * The approval state machine on its own: real Redis, a change kind that records what it is asked, a reply
 * port that records what would reach Slack, and a plain-text view. No Slack app, no worker.
 */

const REQUESTER = 'U0REQUESTER';
const APPROVER = 'U0APPROVER';
const OTHER = 'U0OTHER';
const SECOND = 'U0SECOND';

const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
after(async () => {
  for (const p of prefixes) await dropPrefix(p);
  redis.disconnect();
});

const view: ApprovalView = {
  message: (request, status) => ({ text: `${request.title}: ${status.state}`, blocks: [] }),
  decision: (request, status, detail) => ({
    text: [`${request.title}: ${status.state}`, ...detail].join('\n'),
    blocks: [],
  }),
  parent: (head, requests) => ({
    text: `${head.commandText}: ${requests.map((r) => r.status.state).join(', ')}`,
    blocks: [],
  }),
  who: (user) => user ?? 'meshops',
  when: (ms) => new Date(ms).toISOString(),
};

interface Recorder extends ReplyPort {
  posts: PostMessage[];
  updates: UpdateMessage[];
  ephemerals: EphemeralMessage[];
}

function recorder(): Recorder {
  let ts = 0;
  const r: Recorder = {
    posts: [],
    updates: [],
    ephemerals: [],
    async post(m) {
      r.posts.push(m);
      ts++;
      return { channel: m.channel, ts: `1700000000.${String(ts).padStart(6, '0')}` };
    },
    async update(m) {
      r.updates.push(m);
    },
    async ephemeral(m) {
      r.ephemerals.push(m);
    },
    async respond() {},
    async upload() {
      throw new Error('the approval workflow uploads no files');
    },
  };
  return r;
}

interface Kind extends ChangeKind<{ n: number }, never> {
  calls: string[];
  decisions: { decision: Decision; stateAtHook: string | undefined }[];
}

/** A change kind whose recheck and apply answer as told, recording every call. */
function kindOf(deps: () => ApprovalDeps, recheck: RecheckResult | Error, apply: ApplyResult | Error): Kind {
  const k: Kind = {
    kind: 'test-change',
    calls: [],
    decisions: [],
    plan: async () => ({ ok: false, reason: 'not planned in these tests' }),
    async recheck(request) {
      k.calls.push(`recheck ${request.id}`);
      if (recheck instanceof Error) throw recheck;
      return recheck;
    },
    async apply(request, applyDeps) {
      k.calls.push(`apply ${request.id} in thread ${applyDeps.thread.ts}`);
      if (apply instanceof Error) throw apply;
      return apply;
    },
    async afterDecision(request, decision) {
      const found = await approvalStore(deps()).get(request.id);
      k.decisions.push({ decision, stateAtHook: found?.status.state });
    },
  };
  return k;
}

function world(recheck: RecheckResult | Error = { ok: true }, apply: ApplyResult | Error = ok) {
  const prefix = uniquePrefix('decide');
  prefixes.push(prefix);
  const mesh = unreachableMesh('decide', `access:\n  approvers: [${APPROVER}, ${SECOND}, ${REQUESTER}]\n`);
  const config = parseConfig(mesh.configYaml, `${mesh.dir}/meshops.yaml`, mesh.dir);
  const reply = recorder();
  const queued: { job: MeshJob; options: unknown }[] = [];
  const deps: ApprovalDeps = {
    config,
    clusters: createClusters(config),
    redis,
    prefix,
    log: createLogger('debug', new LogSink()),
    signal: new AbortController().signal,
    reply,
    permissions: createPermissions(config.access, async () => []),
    async enqueue(job, options) {
      queued.push({ job, options });
      return 'job';
    },
  };
  const kind = kindOf(() => deps, recheck, apply);
  const actions = approvalActions([kind], view);
  const click = (action: string, user: string, request: ApprovalRequest, messageTs = 'm') =>
    actions[action]!(
      {
        type: 'action',
        action,
        value: request.id,
        user,
        channel: 'C0CHANGES',
        messageTs,
        actionTs: `${Date.now()}`,
        requestedAt: Date.now(),
      } satisfies ActionJob,
      deps,
    );
  const request = async () => {
    const outcome = await approvalsFor(deps, view).request({
      kind: 'test-change',
      requester: REQUESTER,
      channel: 'C0CHANGES',
      title: 'Test change',
      subject: 'thing',
      effect: ['does a thing'],
      diff: '-a\n+b',
      planHash: 'hash-1',
      checks: [],
      locks: [{ key: `thing/${prefix}`, label: 'the thing' }],
      bindings: [{ target: 'thing', resourceVersion: '1' }],
      payload: { n: 1 },
    });
    assert.ok(outcome.ok, 'the request was made');
    return outcome.request;
  };
  return { deps, reply, kind, queued, click, request, prefix };
}

const ok: ApplyResult = { ok: true, summary: 'done', detail: ['wrote it'], followUp: 'verify' };

describe('the approval state machine', () => {
  it('a request posts its message, locks its targets, queues its expiry and is audited', async () => {
    const w = world();
    const request = await w.request();
    assert.equal(w.reply.posts[0]?.text, 'Test change: pending');
    const stored = await approvalStore(w.deps).get(request.id);
    assert.equal(stored?.status.state, 'pending');
    assert.equal(stored?.status.messageTs, '1700000000.000001');
    assert.equal(w.queued[0]?.job.type === 'action' && w.queued[0].job.action, EXPIRE_ACTION);
    assert.deepEqual(w.queued[0]?.options, {
      delayMs: w.deps.config.access.approvalTtl,
      jobId: `expire-${request.id}`,
    });
    const second = await approvalsFor(w.deps, view).request({ ...request, title: 'Second' });
    assert.equal(second.ok, false);
    assert.match(
      second.ok ? '' : second.reason,
      /the thing is locked by U0REQUESTER's request "Test change"/,
    );
    const trail = auditOf(w.prefix);
    const audit = await trail.audit.latest(5);
    trail.redis.disconnect();
    assert.deepEqual(
      audit.map((e) => e.action),
      ['refused', 'requested'],
    );
  });

  it('approved: re-checks, applies in the approval thread, concludes, and only then runs afterDecision', async () => {
    const w = world();
    const request = await w.request();
    await w.click(APPROVE_ACTION, APPROVER, request);
    assert.deepEqual(w.kind.calls, [
      `recheck ${request.id}`,
      `apply ${request.id} in thread 1700000000.000001`,
    ]);
    assert.equal((await approvalStore(w.deps).get(request.id))?.status.state, 'applied');
    assert.deepEqual(
      w.reply.updates.map((u) => u.text),
      ['Test change: applying', 'Test change: applied'],
    );
    assert.equal(w.reply.posts.at(-1)?.thread_ts, '1700000000.000001');
    assert.match(w.reply.posts.at(-1)?.text ?? '', /applied\nwrote it/);
    // The hook sees the request concluded, with what apply asked for.
    assert.deepEqual(w.kind.decisions, [
      {
        decision: { state: 'applied', messageTs: '1700000000.000001', followUp: 'verify' },
        stateAtHook: 'applied',
      },
    ]);
    // The lock is free again: a new request for the same target is made.
    assert.ok((await approvalsFor(w.deps, view).request({ ...request, title: 'Next' })).ok);
  });

  it('four eyes: the requester and non-approvers are refused privately, and nothing moves', async () => {
    const w = world();
    const request = await w.request();
    await w.click(APPROVE_ACTION, REQUESTER, request);
    await w.click(APPROVE_ACTION, OTHER, request);
    await w.click(REJECT_ACTION, OTHER, request);
    assert.deepEqual(
      w.reply.ephemerals.map((e) => [e.user, e.text]),
      [
        [
          REQUESTER,
          ':no_entry: Four eyes: you requested "Test change", so someone else in access.approvers must approve it.',
        ],
        [OTHER, ':no_entry: Only approvers (access.approvers) may approve "Test change"; you are not one.'],
        [OTHER, ':no_entry: Only approvers (access.approvers) may reject "Test change"; you are not one.'],
      ],
    );
    assert.deepEqual(w.kind.calls, []);
    assert.equal((await approvalStore(w.deps).get(request.id))?.status.state, 'pending');
  });

  it('a stale plan is refused with the kind’s next step, never applied, and the hook gets its follow-up', async () => {
    const w = world({ ok: false, reason: 'it moved', next: 'meshops re-plans now.', followUp: 'replan' });
    const request = await w.request();
    await w.click(APPROVE_ACTION, APPROVER, request);
    assert.deepEqual(w.kind.calls, [`recheck ${request.id}`]);
    assert.equal((await approvalStore(w.deps).get(request.id))?.status.state, 'refused');
    assert.deepEqual(
      w.kind.decisions.map((d) => [d.decision.state, d.decision.followUp]),
      [['refused', 'replan']],
    );
  });

  it('an apply that throws ends failed with the reason; a recheck that throws never applies', async () => {
    const failing = world({ ok: true }, new Error('boom\nstack'));
    const r1 = await failing.request();
    await failing.click(APPROVE_ACTION, APPROVER, r1);
    const s1 = await approvalStore(failing.deps).get(r1.id);
    assert.equal(s1?.status.state, 'failed');
    assert.equal(s1?.status.outcome, 'applying failed: boom');

    const unreadable = world(new Error('API down'));
    const r2 = await unreadable.request();
    await unreadable.click(APPROVE_ACTION, APPROVER, r2);
    assert.deepEqual(unreadable.kind.calls, [`recheck ${r2.id}`]);
    assert.equal(
      (await approvalStore(unreadable.deps).get(r2.id))?.status.outcome,
      'the live state could not be re-checked: API down',
    );
  });

  it('of two approvers clicking at once, one applies; the other is told it is being applied or applied', async () => {
    const w = world();
    const request = await w.request();
    await Promise.all([w.click(APPROVE_ACTION, APPROVER, request), w.click(APPROVE_ACTION, SECOND, request)]);
    assert.equal(w.kind.calls.filter((c) => c.startsWith('apply')).length, 1);
    assert.equal(w.kind.decisions.length, 1);
    assert.equal(w.reply.ephemerals.length, 1);
    assert.match(
      w.reply.ephemerals[0]?.text ?? '',
      /You cannot approve "Test change": it was already approved by U0(APPROVER|SECOND)/,
    );
  });

  it('rejected: locks released, message updated, the hook told, a later approve refused', async () => {
    const w = world();
    const request = await w.request();
    await w.click(REJECT_ACTION, APPROVER, request);
    assert.equal((await approvalStore(w.deps).get(request.id))?.status.state, 'rejected');
    assert.deepEqual(
      w.kind.decisions.map((d) => d.decision.state),
      ['rejected'],
    );
    await w.click(APPROVE_ACTION, APPROVER, request);
    assert.match(
      w.reply.ephemerals.at(-1)?.text ?? '',
      /You cannot approve "Test change": it was already rejected by U0APPROVER/,
    );
    assert.deepEqual(w.kind.calls, []);
  });

  it('the expiry job comes back later when early, and expires a due request once', async () => {
    const w = world();
    const request = await w.request();
    await w.click(EXPIRE_ACTION, 'meshops', request);
    assert.equal((await approvalStore(w.deps).get(request.id))?.status.state, 'pending');
    assert.equal(w.queued.length, 2, 'the early expiry queued itself again');
    // Its time is up: both the stored request and the field the transition script reads say so.
    const key = `${w.prefix}:approval:${request.id}`;
    const due = Date.now() - 1;
    const data = JSON.parse((await redis.hget(key, 'data'))!) as ApprovalRequest;
    await redis.hset(key, { data: JSON.stringify({ ...data, expiresAt: due }), expiresAt: String(due) });
    await w.click(EXPIRE_ACTION, 'meshops', request);
    await w.click(EXPIRE_ACTION, 'meshops', request);
    assert.equal((await approvalStore(w.deps).get(request.id))?.status.state, 'expired');
    assert.deepEqual(
      w.kind.decisions.map((d) => d.decision.state),
      ['expired'],
    );
  });
});
