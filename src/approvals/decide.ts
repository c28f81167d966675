import { randomBytes } from 'node:crypto';
import { type Audit, createAudit } from '../access/audit.ts';
import { createLocks, type Locks } from '../access/locks.ts';
import type { ActionHandler, JobContext } from '../jobs/types.ts';
import type { ActionJob } from '../queue/jobs.ts';
import {
  APPROVE_ACTION,
  approvalMessage,
  decisionReply,
  EXPIRE_ACTION,
  REJECT_ACTION,
  WITHDRAW_ACTION,
  when,
  who,
} from '../slack/render/approval.ts';

/**
 * Four eyes for every change meshops makes, whatever the change is.
 *
 * A change kind (routing presets today; drift repair next) plugs in with two functions and one call:
 *
 *   const driftRepair: ChangeKind<MyPayload> = {
 *     kind: 'drift-repair',
 *     // Re-read every object in request.bindings. ok only if each resourceVersion is unchanged and the
 *     // plan recomputed from the live objects still hashes to request.planHash. No writes.
 *     async recheck(request, ctx) { … return { ok: true } or { ok: false, reason } },
 *     // Write at exactly the bound resourceVersions (a 409 is reported with a fresh plan, never retried
 *     // over). Return what happened; a throw counts as a failure.
 *     async apply(request, ctx) { … return { ok, summary, detail } },
 *   };
 *   // src/jobs/index.ts: actions: approvalActions([routingChange, driftRepair])
 *
 *   // In the command handler, after planning and pre-flight:
 *   const outcome = await requestApproval(ctx, {
 *     kind: 'drift-repair', requester: job.user, channel: job.channel, threadTs: job.parentTs,
 *     title: 'Repair drift on iks', subject: 'iks', effect: ['…plain words…'], diff, planHash,
 *     checks: [{ level: 'ok' | 'warn' | 'fail', text }], bindings: [{ target, resourceVersion }],
 *     locks: [{ key: 'configmap/iks/istio-system/istio', label: 'ConfigMap istio-system/istio on iks' }],
 *     payload, // JSON, handed back to recheck/apply as request.payload
 *   });
 *   // outcome.ok === false: a lock is held by another request; outcome.reason names who and until when.
 *
 * What this module does for every kind, so no kind re-implements it:
 * - takes a lock per target (all or none) for as long as the request is pending or applying;
 * - posts the approval message (requester, effect, diff, checks, locks, expiry, Approve / Reject);
 * - lets only `access.approvers` decide, never the requester; every refusal goes to the clicker as an
 *   ephemeral message with the reason, and into the audit stream;
 * - expires the request after `access.approvalTtl` (a delayed job updates the message even if nobody clicks;
 *   a late click finds it expired too);
 * - claims the request atomically in Redis (pending → applying) before any write, so two clicks, two
 *   approvers, a retried job or a second worker apply it exactly once;
 * - re-checks the binding before applying, then updates the message (buttons gone, who requested, approved,
 *   applied and when), replies in its thread with the result, and releases the locks;
 * - records requested / approved / rejected / expired / refused / applied / failed in the audit stream.
 */

export type ApprovalState =
  | 'pending'
  | 'applying'
  | 'applied'
  | 'rejected'
  | 'withdrawn'
  | 'expired'
  | 'refused'
  | 'failed';

export interface ApprovalCheck {
  level: 'ok' | 'warn' | 'fail';
  text: string;
}

export interface LockTarget {
  /** Stable and unique per object, e.g. `virtualservice/icp/default/reviews`. */
  key: string;
  /** How people name it: "VirtualService default/reviews on icp". */
  label: string;
}

export interface Binding {
  target: string;
  /** The resourceVersion the plan was made against; null when the object did not exist. */
  resourceVersion: string | null;
}

export interface ApprovalInput<P = unknown> {
  kind: string;
  /** The person who started it (a Slack user id), or meshops itself for an unattended scheduled run. */
  requester: string;
  /**
   * Further people whose action made this request (who ran the schedule that proposed it, carried over to
   * its follow-ups): like the requester, none of them may decide it.
   */
  triggeredBy?: string[];
  channel: string;
  /** The requesting command's parent message, to point back at. */
  threadTs?: string;
  /** "Route apply reviews-v3". */
  title: string;
  /** What the audit log calls the change: a preset name, "rollback", a remote. */
  subject: string;
  effect: string[];
  diff: string;
  planHash: string;
  checks: ApprovalCheck[];
  locks: LockTarget[];
  bindings: Binding[];
  payload: P;
}

export interface ApprovalRequest<P = unknown> extends ApprovalInput<P> {
  id: string;
  createdAt: number;
  expiresAt: number;
}

export interface ApprovalStatus {
  state: ApprovalState;
  decidedBy?: string;
  decidedAt?: number;
  /** Why it ended as it did (refusal reason, failure, apply summary). */
  outcome?: string;
  /** A refusal's last sentence, when the change kind does something better than ask for a new request. */
  next?: string;
  messageTs?: string;
  /** The click (action ts and user) whose job claimed it for applying: a re-run of that job resumes it. */
  claim?: string;
}

/**
 * A refusal: `next` replaces "please request it again" wherever the refusal is shown (e.g. "meshops re-plans
 * now"); `detail` adds lines to the thread reply.
 */
export type RecheckResult = { ok: true } | { ok: false; reason: string; next?: string; detail?: string[] };

export interface ApplyResult {
  ok: boolean;
  /** One line for the approval message. */
  summary: string;
  /** Lines for the thread reply. */
  detail: string[];
}

/**
 * What an apply has written so far, kept in Redis line by line as it goes ("default/reviews: resourceVersion
 * 7 → 9"), so a worker that dies mid-apply leaves a record the next run reports and works from.
 */
export interface Progress {
  /** Lines recorded by an earlier run of this apply (a worker that stopped); empty on a first run. */
  readonly earlier: readonly string[];
  record(line: string): Promise<void>;
}

export interface ChangeKind<P = unknown> {
  readonly kind: string;
  recheck(request: ApprovalRequest<P>, ctx: JobContext): Promise<RecheckResult>;
  apply(request: ApprovalRequest<P>, ctx: JobContext, progress: Progress): Promise<ApplyResult>;
  /**
   * Finishes an apply whose worker stopped part-way, judging each object by what is live (the bound
   * resourceVersion still there: not written yet; the planned state there: written). Without it, an
   * interrupted apply is re-run only when its re-check shows nothing was written, and concluded failed otherwise.
   */
  resume?(request: ApprovalRequest<P>, ctx: JobContext, progress: Progress): Promise<ApplyResult>;
}

const TERMINAL: readonly ApprovalState[] = [
  'applied',
  'rejected',
  'withdrawn',
  'expired',
  'refused',
  'failed',
];
// How long a request record outlives its decision, for late clicks to be answered with what happened.
const KEEP_DECIDED_MS = 7 * 86_400_000;

const reasonOf = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? String(err);

/**
 * Moves a request from one state to another only if it is still in `from`, so exactly one caller wins.
 * ARGV[5] = "live" also requires now < expiresAt (a late claim expires it instead and says EXPIRED);
 * "due" requires now >= expiresAt (the expiry job never ends a request early).
 */
const TRANSITION = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'MISSING'} end
if state ~= ARGV[1] then
  return {'STATE', state, redis.call('HGET', KEYS[1], 'decidedBy') or '', redis.call('HGET', KEYS[1], 'decidedAt') or ''}
end
local expiresAt = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
local now = tonumber(ARGV[3])
if ARGV[5] == 'live' and now >= expiresAt then
  redis.call('HSET', KEYS[1], 'state', 'expired', 'decidedBy', 'meshops', 'decidedAt', ARGV[3])
  return {'EXPIRED'}
end
if ARGV[5] == 'due' and now < expiresAt then return {'EARLY', tostring(expiresAt - now)} end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'decidedBy', ARGV[4], 'decidedAt', ARGV[3], 'outcome', ARGV[6])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'claim', ARGV[7]) end
return {'OK'}
`;

type TransitionResult =
  | { ok: true }
  | { ok: false; why: 'missing' }
  | { ok: false; why: 'expired' }
  | { ok: false; why: 'early'; remainingMs: number }
  | { ok: false; why: 'state'; status: ApprovalStatus };

export interface ApprovalStore {
  get(id: string): Promise<{ request: ApprovalRequest; status: ApprovalStatus } | undefined>;
  transition(
    id: string,
    from: ApprovalState,
    to: ApprovalState,
    opts: { by: string; outcome?: string; expiry?: 'live' | 'due'; claim?: string },
  ): Promise<TransitionResult>;
}

const keyOf = (prefix: string, id: string) => `${prefix}:approval:${id}`;

export function approvalStore(ctx: Pick<JobContext, 'redis' | 'prefix'>): ApprovalStore {
  const { redis, prefix } = ctx;
  return {
    async get(id) {
      const h = await redis.hgetall(keyOf(prefix, id));
      if (!h.data || !h.state) return undefined;
      return {
        request: JSON.parse(h.data) as ApprovalRequest,
        status: {
          state: h.state as ApprovalState,
          ...(h.decidedBy ? { decidedBy: h.decidedBy } : {}),
          ...(h.decidedAt ? { decidedAt: Number(h.decidedAt) } : {}),
          ...(h.outcome ? { outcome: h.outcome } : {}),
          ...(h.messageTs ? { messageTs: h.messageTs } : {}),
          ...(h.claim ? { claim: h.claim } : {}),
        },
      };
    },
    async transition(id, from, to, opts) {
      const res = (await redis.eval(
        TRANSITION,
        1,
        keyOf(prefix, id),
        from,
        to,
        String(Date.now()),
        opts.by,
        opts.expiry ?? 'any',
        opts.outcome ?? '',
        opts.claim ?? '',
      )) as string[];
      switch (res[0]) {
        case 'OK':
          if (TERMINAL.includes(to)) await redis.pexpire(keyOf(prefix, id), KEEP_DECIDED_MS);
          return { ok: true };
        case 'MISSING':
          return { ok: false, why: 'missing' };
        case 'EXPIRED':
          return { ok: false, why: 'expired' };
        case 'EARLY':
          return { ok: false, why: 'early', remainingMs: Number(res[1]) };
        default:
          return {
            ok: false,
            why: 'state',
            status: {
              state: res[1] as ApprovalState,
              ...(res[2] ? { decidedBy: res[2] } : {}),
              ...(res[3] ? { decidedAt: Number(res[3]) } : {}),
            },
          };
      }
    },
  };
}

interface Deps {
  ctx: JobContext;
  store: ApprovalStore;
  locks: Locks;
  audit: Audit;
}

export const auditOf = (ctx: JobContext): Audit =>
  createAudit({
    redis: ctx.redis,
    prefix: ctx.prefix,
    retentionMs: ctx.config.audit.retention,
    maxEntries: ctx.config.audit.maxEntries,
    log: ctx.log,
  });

function depsOf(ctx: JobContext): Deps {
  return { ctx, store: approvalStore(ctx), locks: createLocks(ctx.redis, ctx.prefix), audit: auditOf(ctx) };
}

/** Locks outlive the request by one job timeout, so the expiry job (not the TTL) is what releases them. */
const pendingLockMs = (ctx: JobContext) => ctx.config.access.approvalTtl + ctx.config.jobs.timeout + 60_000;
const applyingLockMs = (ctx: JobContext) => 2 * ctx.config.jobs.timeout + 60_000;

/** "held by <@U…>'s request … (pending until …)" for a lock conflict, read from the holder's request. */
async function holderText(d: Deps, holderId: string): Promise<{ stale: boolean; text: string }> {
  const holder = await d.store.get(holderId);
  if (!holder || TERMINAL.includes(holder.status.state)) return { stale: true, text: '' };
  const { request, status } = holder;
  const until =
    status.state === 'applying'
      ? `being applied now (approved by ${who(status.decidedBy)})`
      : `waiting for approval until ${when(request.expiresAt)}`;
  return {
    stale: false,
    text: `${who(request.requester)}'s request "${request.title}" (${request.id}), ${until}`,
  };
}

export type RequestOutcome<P> =
  | { ok: true; request: ApprovalRequest<P>; messageTs: string }
  | { ok: false; reason: string };

/** "; triggered by U…" for the audit: who made a request happen besides its requester. */
const triggerText = (input: Pick<ApprovalInput, 'triggeredBy'>) =>
  input.triggeredBy?.length ? `; triggered by ${input.triggeredBy.join(', ')}` : '';

/** Locks the targets, records the request, posts the approval message and schedules its expiry. */
export async function requestApproval<P>(
  ctx: JobContext,
  input: ApprovalInput<P>,
): Promise<RequestOutcome<P>> {
  const d = depsOf(ctx);
  const now = Date.now();
  const request: ApprovalRequest<P> = {
    ...input,
    id: `ap-${randomBytes(5).toString('hex')}`,
    createdAt: now,
    expiresAt: now + ctx.config.access.approvalTtl,
  };
  const keys = input.locks.map((l) => l.key);
  let taken = await d.locks.acquire(keys, request.id, pendingLockMs(ctx));
  let holder = taken.ok ? undefined : await holderText(d, taken.holder);
  if (!taken.ok && holder?.stale) {
    // A lock whose request has ended (a worker died before releasing it) is stale: free it and try once more.
    await d.locks.release([taken.target], taken.holder);
    taken = await d.locks.acquire(keys, request.id, pendingLockMs(ctx));
    holder = taken.ok ? undefined : await holderText(d, taken.holder);
  }
  if (!taken.ok) {
    const target = input.locks.find((l) => l.key === taken.target)?.label ?? taken.target;
    const reason = `${target} is locked by ${holder?.text || `request ${taken.holder}`}. Wait for it to be decided, or ask an approver to reject it.`;
    await d.audit.record({
      action: 'refused',
      who: input.requester,
      kind: input.kind,
      subject: input.subject,
      planHash: input.planHash,
      result: `not requested: ${reason}`,
    });
    return { ok: false, reason };
  }

  const key = keyOf(ctx.prefix, request.id);
  await ctx.redis
    .multi()
    .hset(key, { data: JSON.stringify(request), state: 'pending', expiresAt: String(request.expiresAt) })
    .pexpire(key, ctx.config.access.approvalTtl + KEEP_DECIDED_MS)
    .exec();
  let messageTs: string;
  try {
    messageTs = (
      await ctx.reply.post({ channel: input.channel, ...approvalMessage(request, { state: 'pending' }) })
    ).ts;
  } catch (err) {
    const outcome = `the approval message could not be posted: ${reasonOf(err)}`;
    await d.store.transition(request.id, 'pending', 'failed', { by: 'meshops', outcome });
    await d.locks.release(keys, request.id);
    await d.audit.record({
      action: 'failed',
      who: input.requester,
      kind: input.kind,
      subject: input.subject,
      request: request.id,
      planHash: input.planHash,
      result: outcome,
    });
    throw err;
  }
  await ctx.redis.hset(key, 'messageTs', messageTs);
  try {
    await ctx.enqueue(
      {
        type: 'action',
        action: EXPIRE_ACTION,
        value: request.id,
        user: 'meshops',
        channel: input.channel,
        messageTs,
        actionTs: `expire-${request.id}`,
        requestedAt: now,
      },
      { delayMs: ctx.config.access.approvalTtl, jobId: `expire-${request.id}` },
    );
  } catch (err) {
    // A late click still finds the request expired; only the message would not say so by itself.
    ctx.log.warn({ err, request: request.id }, 'could not schedule the approval expiry');
  }
  await d.audit.record({
    action: 'requested',
    who: input.requester,
    kind: input.kind,
    subject: input.subject,
    request: request.id,
    planHash: input.planHash,
    diff: input.diff,
    result: `pending until ${new Date(request.expiresAt).toISOString()}${triggerText(input)}`,
  });
  return { ok: true, request, messageTs };
}

async function updateMessage(d: Deps, request: ApprovalRequest, status: ApprovalStatus, messageTs: string) {
  await d.ctx.reply
    .update({ channel: request.channel, ts: messageTs, ...approvalMessage(request, status) })
    .catch((err: unknown) =>
      d.ctx.log.warn({ err, request: request.id }, 'could not update the approval message'),
    );
}

async function refuse(d: Deps, job: ActionJob, reason: string, request?: ApprovalRequest): Promise<void> {
  await d.ctx.reply
    .ephemeral({ channel: job.channel, user: job.user, text: `:no_entry: ${reason}` })
    .catch((err: unknown) => d.ctx.log.warn({ err }, 'could not tell the clicker why the click was refused'));
  await d.audit.record({
    action: 'refused',
    who: job.user,
    kind: request?.kind ?? 'approval',
    subject: request?.subject ?? job.value,
    ...(request ? { request: request.id, planHash: request.planHash } : {}),
    result: reason,
  });
}

/** Ends a pending request that is past its time: message, locks, audit. Safe to call from several places. */
async function expire(
  d: Deps,
  request: ApprovalRequest,
  messageTs: string,
  alreadyMarked: boolean,
): Promise<boolean> {
  if (!alreadyMarked) {
    const t = await d.store.transition(request.id, 'pending', 'expired', { by: 'meshops', expiry: 'due' });
    if (!t.ok) return false;
  }
  await d.locks.release(
    request.locks.map((l) => l.key),
    request.id,
  );
  await updateMessage(
    d,
    request,
    { state: 'expired', decidedBy: 'meshops', decidedAt: Date.now() },
    messageTs,
  );
  await d.audit.record({
    action: 'expired',
    who: 'meshops',
    kind: request.kind,
    subject: request.subject,
    request: request.id,
    planHash: request.planHash,
    result: `nobody approved within ${Math.round(d.ctx.config.access.approvalTtl / 60_000)} min`,
  });
  return true;
}

function stateText(status: ApprovalStatus): string {
  const by = status.decidedBy && status.decidedBy !== 'meshops' ? ` by ${who(status.decidedBy)}` : '';
  const at = status.decidedAt ? ` at ${when(status.decidedAt)}` : '';
  switch (status.state) {
    case 'applying':
      return `already approved${by}${at} and being applied`;
    case 'applied':
      return `already approved${by} and applied${at}`;
    case 'rejected':
      return `already rejected${by}${at}`;
    case 'withdrawn':
      return `withdrawn${by}${at}`;
    case 'expired':
      return `expired${at}`;
    case 'refused':
      return `already approved${by}${at}, but not applied because the live state had changed`;
    case 'failed':
      return `already approved${by}${at}; applying it failed`;
    case 'pending':
      return 'still waiting for approval';
  }
}

type Verb = 'approve' | 'reject' | 'withdraw';
const CLAIMED_STATE = { approve: 'applying', reject: 'rejected', withdraw: 'withdrawn' } as const;

/** Why `user` may not approve or reject: four eyes (requester or trigger), or not an approver. */
async function decideRefusal(
  d: Deps,
  request: ApprovalRequest,
  user: string,
  verb: 'approve' | 'reject',
): Promise<string | undefined> {
  if (user === request.requester || request.triggeredBy?.includes(user)) {
    const why = user === request.requester ? 'requested' : 'triggered';
    return `Four eyes: you ${why} "${request.title}", so someone else in access.approvers must ${verb} it.`;
  }
  if (!(await d.ctx.permissions.isApprover(user)))
    return `Only approvers (access.approvers) may ${verb} "${request.title}"; you are not one.`;
  return undefined;
}

/** Only the person who requested a change may take it back; approvers reject instead. */
function withdrawRefusal(request: ApprovalRequest, user: string): string | undefined {
  if (user === request.requester) return undefined;
  return `Only ${who(request.requester)}, who requested "${request.title}", may withdraw it; an approver may reject it.`;
}

/**
 * Checks that `job.user` may decide the request now and moves it out of pending (to applying or rejected).
 * The move is the claim: of every click, retry and worker racing here, exactly one wins; the others are told why not.
 */
async function claimPending(
  d: Deps,
  job: ActionJob,
  verb: Verb,
): Promise<{ request: ApprovalRequest; messageTs: string } | undefined> {
  const found = await d.store.get(job.value);
  if (!found) {
    await refuse(d, job, `This approval request (${job.value}) no longer exists; nothing was changed.`);
    return undefined;
  }
  const { request, status } = found;
  const messageTs = status.messageTs ?? job.messageTs;
  if (status.state !== 'pending') {
    await refuse(d, job, `You cannot ${verb} "${request.title}": it was ${stateText(status)}.`, request);
    return undefined;
  }
  if (Date.now() >= request.expiresAt) {
    await expire(d, request, messageTs, false);
    await refuse(
      d,
      job,
      `"${request.title}" expired at ${when(request.expiresAt)}; ${who(request.requester)} can request it again.`,
      request,
    );
    return undefined;
  }
  const refusal =
    verb === 'withdraw'
      ? withdrawRefusal(request, job.user)
      : await decideRefusal(d, request, job.user, verb);
  if (refusal) {
    await refuse(d, job, refusal, request);
    return undefined;
  }
  const to = CLAIMED_STATE[verb];
  const claim = await d.store.transition(request.id, 'pending', to, {
    by: job.user,
    expiry: 'live',
    ...(to === 'applying' ? { claim: claimOf(job) } : {}),
  });
  if (!claim.ok) {
    if (claim.why === 'expired') await expire(d, request, messageTs, true);
    const now = claim.why === 'state' ? claim.status : { state: 'expired' as const };
    await refuse(d, job, `You cannot ${verb} "${request.title}": it was ${stateText(now)}.`, request);
    return undefined;
  }
  return { request, messageTs };
}

async function finish(
  d: Deps,
  request: ApprovalRequest,
  messageTs: string,
  approver: string,
  state: 'applied' | 'refused' | 'failed',
  summary: string,
  detail: string[],
  next?: string,
): Promise<void> {
  await d.store.transition(request.id, 'applying', state, { by: approver, outcome: summary });
  await d.locks.release(
    request.locks.map((l) => l.key),
    request.id,
  );
  const status: ApprovalStatus = {
    state,
    decidedBy: approver,
    decidedAt: Date.now(),
    outcome: summary,
    ...(next ? { next } : {}),
  };
  await updateMessage(d, request, status, messageTs);
  await d.ctx.reply
    .post({ channel: request.channel, thread_ts: messageTs, ...decisionReply(request, status, detail) })
    .catch((err: unknown) =>
      d.ctx.log.warn({ err, request: request.id }, 'could not post the result in the thread'),
    );
  await d.audit.record({
    action: state,
    who: approver,
    kind: request.kind,
    subject: request.subject,
    request: request.id,
    planHash: request.planHash,
    diff: request.diff,
    result: summary,
  });
}

const claimOf = (job: ActionJob) => `${job.actionTs}/${job.user}`;
const progressKey = (prefix: string, id: string) => `${prefix}:approval:${id}:progress`;

async function progressOf(d: Deps, request: ApprovalRequest): Promise<Progress> {
  const key = progressKey(d.ctx.prefix, request.id);
  const earlier = await d.ctx.redis.lrange(key, 0, -1);
  return {
    earlier,
    async record(line) {
      await d.ctx.redis
        .multi()
        .rpush(key, line)
        .pexpire(key, d.ctx.config.access.approvalTtl + KEEP_DECIDED_MS)
        .exec();
    },
  };
}

/**
 * The same approval job run again on a request it left "applying" (its worker was killed; BullMQ hands the
 * stalled job to another worker): finish what the first run started, judged by what is live, or conclude it
 * failed, and say what was written either way.
 */
async function resumeApply(
  d: Deps,
  job: ActionJob,
  found: { request: ApprovalRequest; status: ApprovalStatus },
  kinds: ReadonlyMap<string, ChangeKind>,
): Promise<void> {
  const { request, status } = found;
  const messageTs = status.messageTs ?? job.messageTs;
  const progress = await progressOf(d, request);
  d.ctx.log.warn(
    { request: request.id, written: progress.earlier.length },
    'an apply was interrupted (its worker stopped); resuming it against the live state',
  );
  await d.locks.extend(
    request.locks.map((l) => l.key),
    request.id,
    applyingLockMs(d.ctx),
  );
  const earlier =
    progress.earlier.length > 0
      ? `written before: ${progress.earlier.join('; ')}`
      : 'nothing recorded as written';
  const kind = kinds.get(request.kind);
  let result: ApplyResult;
  try {
    if (kind?.resume) result = await kind.resume(request, d.ctx, progress);
    else {
      const check = kind
        ? await kind.recheck(request, d.ctx)
        : { ok: false as const, reason: `this worker cannot apply "${request.kind}" changes` };
      // Unchanged bindings mean the stopped run wrote nothing: applying now is the apply that was approved.
      result = check.ok
        ? await kind!.apply(request, d.ctx, progress)
        : {
            ok: false,
            summary: `the worker applying it stopped, and the live state no longer matches the plan (${check.reason}); it was not finished`,
            detail: [`Check the live state before requesting it again (${earlier}).`],
          };
    }
  } catch (err) {
    d.ctx.log.error({ err, request: request.id }, 'resuming an interrupted apply failed');
    result = {
      ok: false,
      summary: `resuming the interrupted apply failed: ${reasonOf(err)}`,
      detail: [earlier],
    };
  }
  await finish(
    d,
    request,
    messageTs,
    status.decidedBy ?? job.user,
    result.ok ? 'applied' : 'failed',
    `${result.summary} (resumed after the worker applying it stopped)`,
    result.detail,
  );
}

async function approve(d: Deps, job: ActionJob, kinds: ReadonlyMap<string, ChangeKind>): Promise<void> {
  const current = await d.store.get(job.value);
  if (current?.status.state === 'applying' && current.status.claim === claimOf(job)) {
    await resumeApply(d, job, current, kinds);
    return;
  }
  const claimed = await claimPending(d, job, 'approve');
  if (!claimed) return;
  const { request, messageTs } = claimed;
  await d.locks.extend(
    request.locks.map((l) => l.key),
    request.id,
    applyingLockMs(d.ctx),
  );
  await d.audit.record({
    action: 'approved',
    who: job.user,
    kind: request.kind,
    subject: request.subject,
    request: request.id,
    planHash: request.planHash,
    result: `approved; requested by ${request.requester}`,
  });
  await updateMessage(
    d,
    request,
    { state: 'applying', decidedBy: job.user, decidedAt: Date.now() },
    messageTs,
  );

  const kind = kinds.get(request.kind);
  if (!kind) {
    await finish(
      d,
      request,
      messageTs,
      job.user,
      'failed',
      `this worker cannot apply "${request.kind}" changes`,
      [],
    );
    return;
  }
  let check: RecheckResult;
  try {
    check = await kind.recheck(request, d.ctx);
  } catch (err) {
    await finish(
      d,
      request,
      messageTs,
      job.user,
      'failed',
      `the live state could not be re-checked: ${reasonOf(err)}`,
      [],
    );
    return;
  }
  if (!check.ok) {
    await finish(
      d,
      request,
      messageTs,
      job.user,
      'refused',
      check.reason,
      check.detail ??
        (check.next
          ? []
          : [
              `${who(request.requester)}, the change was not applied. Please request it again to see the new diff.`,
            ]),
      check.next,
    );
    return;
  }
  let result: ApplyResult;
  try {
    result = await kind.apply(request, d.ctx, await progressOf(d, request));
  } catch (err) {
    d.ctx.log.error({ err, request: request.id }, 'applying an approved change failed');
    result = { ok: false, summary: `applying failed: ${reasonOf(err)}`, detail: [] };
  }
  await finish(
    d,
    request,
    messageTs,
    job.user,
    result.ok ? 'applied' : 'failed',
    result.summary,
    result.detail,
  );
}

/** Reject (an approver) or withdraw (the requester): nothing is changed and the lock is released. */
async function close(d: Deps, job: ActionJob, verb: 'reject' | 'withdraw'): Promise<void> {
  const claimed = await claimPending(d, job, verb);
  if (!claimed) return;
  const { request, messageTs } = claimed;
  const state = CLAIMED_STATE[verb];
  await d.locks.release(
    request.locks.map((l) => l.key),
    request.id,
  );
  await updateMessage(d, request, { state, decidedBy: job.user, decidedAt: Date.now() }, messageTs);
  await d.audit.record({
    action: state,
    who: job.user,
    kind: request.kind,
    subject: request.subject,
    request: request.id,
    planHash: request.planHash,
    result: verb === 'reject' ? `rejected; requested by ${request.requester}` : 'withdrawn by the requester',
  });
}

/** The delayed job: a request still pending at its expiry ends as expired; anything else is left alone. */
async function expireJob(d: Deps, job: ActionJob): Promise<void> {
  const found = await d.store.get(job.value);
  if (found?.status.state !== 'pending') return;
  const remaining = found.request.expiresAt - Date.now();
  if (remaining > 0) {
    // Ran early (clock skew between hosts): come back when it is due.
    await d.ctx.enqueue(job, { delayMs: remaining, jobId: `expire-${found.request.id}-${Date.now()}` });
    return;
  }
  await expire(d, found.request, found.status.messageTs ?? job.messageTs, false);
}

/** The button and timer handlers for every registered change kind. */
export function approvalActions(kinds: readonly ChangeKind[]): Record<string, ActionHandler> {
  const byKind = new Map(kinds.map((k) => [k.kind, k]));
  return {
    [APPROVE_ACTION]: (job, ctx) => approve(depsOf(ctx), job, byKind),
    [REJECT_ACTION]: (job, ctx) => close(depsOf(ctx), job, 'reject'),
    [WITHDRAW_ACTION]: (job, ctx) => close(depsOf(ctx), job, 'withdraw'),
    [EXPIRE_ACTION]: (job, ctx) => expireJob(depsOf(ctx), job),
  };
}
