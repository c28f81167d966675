import type { KnownBlock } from '@slack/types';
import { linkRef, userRef } from '../../chat/mrkdwn.ts';
import type { JobResult } from '../../chat/reply.ts';
import { clip, context, section } from './blocks.ts';

export const VERDICT_ICON: Record<JobResult['verdict'], string> = {
  healthy: ':large_green_circle:',
  degraded: ':large_yellow_circle:',
  down: ':red_circle:',
  failed: ':x:',
  info: ':information_source:',
};

export interface ParentMessage {
  text: string;
  blocks: KnownBlock[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** Everyone who asked for the run, in the order they asked, each once. */
function requestedBy(users: readonly string[]): string {
  return [...new Set(users)].map((u) => userRef(u)).join(', ');
}

function parent(commandText: string, users: readonly string[], state: string): ParentMessage {
  const line = `\`${clip(commandText, 200)}\` requested by ${requestedBy(users)} — ${state}`;
  return { text: line, blocks: [section(line)] };
}

/** The parent of a command whose change was put up for approval, once that is decided. */
export const decidedMessage = (commandText: string, users: readonly string[], decision: string) =>
  parent(commandText, users, decision);

export const runningMessage = (commandText: string, users: readonly string[]) =>
  parent(commandText, users, ':hourglass_flowing_sand: running');

export function verdictMessage(
  commandText: string,
  users: readonly string[],
  verdict: JobResult['verdict'],
  summary: string,
  durationMs: number,
): ParentMessage {
  return parent(
    commandText,
    users,
    `${VERDICT_ICON[verdict]} *${verdict}*: ${clip(summary, 500)} (${seconds(durationMs)})`,
  );
}

export function failedMessage(
  commandText: string,
  users: readonly string[],
  durationMs: number,
): ParentMessage {
  return parent(
    commandText,
    users,
    `${VERDICT_ICON.failed} *failed* (${seconds(durationMs)}) — see the thread`,
  );
}

export function errorReply(reason: string, jobId: string): ParentMessage {
  const text = `:x: The command failed: ${clip(reason, 1000)}`;
  return {
    text,
    blocks: [section(text), context(`job ${jobId} · details are in the worker log under this job id`)],
  };
}

/** The ack's ephemeral text for a requester who joined a run someone else asked for in the channel. */
export function joinedText(commandText: string, earlier: readonly string[], threadUrl?: string): string {
  const thread = threadUrl ? linkRef(threadUrl, 'its thread') : 'its thread';
  return `:link: \`${clip(commandText, 200)}\` is already queued or running in this channel for ${requestedBy(earlier)}: you joined that run. Its message names you, and the answer is in ${thread}.`;
}

/** Said to the requester when the bot cannot post in the channel: how to let it in. */
export function notInChannelAdvice(code: string): string {
  return `:warning: I can't post in this channel, so the command did not run. Invite me with \`/invite @meshops\` (in a private channel, open the channel details → Integrations → Add apps), then run the command again. (Slack said \`${code}\`)`;
}
