import type { Redis } from 'ioredis';
import type { Permissions } from '../access/permissions.ts';
import type { ReplyPort } from '../chat/reply.ts';
import type { MeshConfig } from '../config/schema.ts';
import type { Clusters } from '../kube/registry.ts';
import type {
  ApplyResult,
  ApprovalRequest,
  FollowUp,
  Progress,
  Proposal,
  RecheckResult,
} from '../mesh/change.ts';
import type { Logger } from '../observability/logger.ts';
import type { EnqueueOptions, MeshJob } from '../queue/jobs.ts';

/** The buttons of an approval message, and the delayed job that expires a request (never a button). */
export const APPROVE_ACTION = 'mesh.approve';
export const REJECT_ACTION = 'mesh.reject';
/** The requester takes back a pending request and releases its lock. */
export const WITHDRAW_ACTION = 'mesh.withdraw';
export const EXPIRE_ACTION = 'mesh.approval-expire';
/** The periodic job that concludes requests left "applying" by an approval job that will never run again. */
export const SWEEP_ACTION = 'mesh.approval-sweep';

export type ApprovalState =
  | 'pending'
  | 'applying'
  | 'applied'
  | 'rejected'
  | 'withdrawn'
  | 'expired'
  | 'refused'
  | 'failed';

export const TERMINAL: readonly ApprovalState[] = [
  'applied',
  'rejected',
  'withdrawn',
  'expired',
  'refused',
  'failed',
];

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

/** What a change kind may use to plan, re-check and apply. */
export interface ChangeDeps {
  readonly config: MeshConfig;
  readonly clusters: Clusters;
  readonly redis: Redis;
  readonly prefix: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/** How a request was concluded, handed to the change kind's afterDecision hook. */
export interface Decision {
  state: Exclude<ApprovalState, 'pending' | 'applying'>;
  /** The approval message; what the kind posts afterwards goes into its thread. */
  messageTs: string;
  /** What recheck or apply asked for once the request is concluded. */
  followUp?: FollowUp;
}

/**
 * A change kind plugs into the approval workflow with four functions and one registration
 * (`changeKinds` in src/jobs/changes.ts):
 * - `plan` plans the change from the live state and writes nothing: a proposal to put up for approval,
 *   or why there is none (`Why`);
 * - `recheck` re-reads every object in request.bindings once approved: ok only if each resourceVersion is
 *   unchanged and the plan recomputed from the live objects still hashes to request.planHash. No writes;
 * - `apply` writes at exactly the bound resourceVersions (a 409 is reported, never retried over) and says what
 *   happened; a throw counts as a failure;
 * - `afterDecision` runs once the request is concluded (message updated, locks released, audit written),
 *   whatever the decision, e.g. to queue the verification of what was applied.
 */
export interface ChangeKind<P = unknown, A = never, Why = { reason: string }> {
  readonly kind: string;
  plan(args: A, deps: ChangeDeps): Promise<{ ok: true; proposal: Proposal<P> } | ({ ok: false } & Why)>;
  recheck(request: ApprovalRequest<P>, deps: ChangeDeps): Promise<RecheckResult>;
  apply(request: ApprovalRequest<P>, deps: ApplyDeps): Promise<ApplyResult>;
  /**
   * Finishes an apply whose worker stopped part-way, judging each object by what is live (the bound
   * resourceVersion still there: not written yet; the planned state there: written). Without it, an
   * interrupted apply is re-run only when its re-check shows nothing was written, and concluded failed otherwise.
   */
  resume?(request: ApprovalRequest<P>, deps: ApplyDeps): Promise<ApplyResult>;
  afterDecision?(request: ApprovalRequest<P>, decision: Decision, deps: ApprovalDeps): Promise<void>;
}

export interface ApplyDeps extends ChangeDeps {
  /** Where progress is shown while applying: the thread of the approval message. */
  readonly thread: { reply: ReplyPort; channel: string; ts: string };
  /** Where each write is recorded as it is made, and what an interrupted earlier run recorded. */
  readonly progress: Progress;
}

/** What the workflow needs: the change kinds' deps, the reply port, who may approve, and the queue. */
export interface ApprovalDeps extends ChangeDeps {
  readonly reply: ReplyPort;
  readonly permissions: Permissions;
  /** Queues a job on the worker's queue; `delayMs` runs it later, a `jobId` makes queueing it twice queue it once. */
  enqueue(job: MeshJob, options?: EnqueueOptions): Promise<string>;
  /**
   * Waits, bounded, until Redis replicas hold the writes made on `redis` so far (REDIS_WAIT_REPLICAS), so a
   * failover does not undo a decision once it is acted on. Never throws.
   */
  replicated?(): Promise<void>;
}
