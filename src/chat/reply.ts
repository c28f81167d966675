import type { KnownBlock } from '@slack/types';
import type { Health } from '../mesh/health.ts';

/**
 * What job handlers and the approval workflow need of the chat surface: messages out, through one port.
 * Slack implements it (src/slack/poster.ts); handlers never hold a Slack client.
 */

export interface PostMessage {
  channel: string;
  text: string;
  blocks?: KnownBlock[];
  thread_ts?: string;
}

export interface UpdateMessage {
  channel: string;
  ts: string;
  text: string;
  blocks?: KnownBlock[];
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  text: string;
  blocks?: KnownBlock[];
  thread_ts?: string;
}

export interface FileUpload {
  channel: string;
  /** The thread's parent ts (Slack: never a reply's ts). */
  thread_ts?: string;
  filename: string;
  title: string;
  /** Alt text for screen readers (Slack's `alt_txt`, at most 1000 characters). */
  altText: string;
  data: Buffer;
}

/** A message as a renderer makes it: fallback text for notifications and screen readers, and its blocks. */
export interface Message {
  text: string;
  blocks: KnownBlock[];
}

/** The one port every handler posts through. */
export interface ReplyPort {
  post(message: PostMessage): Promise<{ channel: string; ts: string }>;
  update(message: UpdateMessage): Promise<void>;
  ephemeral(message: EphemeralMessage): Promise<void>;
  /** An ephemeral reply to a requester through a slash command's `response_url` (no channel membership needed). */
  respond(responseUrl: string, text: string): Promise<void>;
  /** Shares a file (a chart) in a channel or thread; on Slack the external upload flow, scope `files:write`. */
  upload(file: FileUpload): Promise<{ fileId: string }>;
}

/**
 * A Slack user as people read their name where a mention cannot be rendered (an image): the chat surface's
 * display name, else real name; the id itself when the lookup fails, and any other name (meshops) as it is.
 */
export type UserNames = (user: string) => Promise<string>;

/** A command's answer: posted in the command's thread, its verdict and summary shown on the parent message. */
export interface JobResult extends Message {
  /**
   * The health the answer found (failed also when the command itself could not run), or info for answers
   * that carry no health judgement (lists, audit entries, pending approvals).
   */
  verdict: Health | 'info';
  /** One line for the parent message, e.g. "2 clusters answer". */
  summary: string;
  /**
   * The approval requests the answer made (their ids): the parent is updated again as each is decided, so it
   * never keeps saying "waiting for an approver" after a change was applied, rejected or expired.
   */
  awaiting?: readonly string[];
}
