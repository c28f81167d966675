/**
 * What a change to the mesh is, before and after four eyes approve it. The domain plans changes from the
 * live state (a proposal), re-checks and applies approved requests; src/approvals runs the workflow between.
 */

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

/** Who asks for a change, and where the conversation about it happens. */
export interface Requester {
  /** The person who started it (a Slack user id), or meshops itself for an unattended scheduled run. */
  requester: string;
  /**
   * Further people whose action made this request (the approver of the step a follow-up of an unattended
   * request comes from): like the requester, none of them may decide it.
   */
  triggeredBy?: string[];
  channel: string;
  /** Where the request came from (the command's parent, a scheduled post, an earlier approval), to point back at. */
  threadTs?: string;
}

/** A change planned from the live state, ready to be put up for approval. Nothing is written yet. */
export interface Proposal<P = unknown> {
  /** The change kind that re-checks and applies it. */
  kind: string;
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
  /** JSON, handed back to recheck and apply as request.payload. */
  payload: P;
}

export type ApprovalInput<P = unknown> = Proposal<P> & Requester;

export interface ApprovalRequest<P = unknown> extends Proposal<P>, Requester {
  id: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * A refusal: `next` replaces "please request it again" wherever the refusal is shown (e.g. "meshops re-plans
 * now"); `detail` adds lines to the thread reply.
 */
export type RecheckResult =
  | { ok: true }
  | { ok: false; reason: string; next?: string; detail?: string[]; followUp?: FollowUp };

export interface ApplyResult {
  ok: boolean;
  /** One line for the approval message. */
  summary: string;
  /** Lines for the thread reply. */
  detail: string[];
  followUp?: FollowUp;
}

/** What an apply has written so far, recorded as it goes (src/approvals keeps it in Redis). */
export interface Progress {
  /** Lines recorded by an earlier run of this apply (its worker stopped); empty on a first run. */
  readonly earlier: readonly string[];
  record(line: string): Promise<void>;
}

/** What the change kind wants done once the request is concluded: verify what was applied, or re-plan. */
export type FollowUp = 'verify' | 'replan';

export type RequestOutcome<P = unknown> =
  | { ok: true; request: ApprovalRequest<P>; messageTs: string }
  | { ok: false; reason: string };

/** What the domain needs of the approval workflow: put a proposal up for approval (src/approvals implements it). */
export interface Approvals {
  request<P>(input: ApprovalInput<P>): Promise<RequestOutcome<P>>;
}
