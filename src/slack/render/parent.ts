import type { KnownBlock } from '@slack/types';
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

function parent(commandText: string, user: string, state: string): ParentMessage {
  const line = `\`${clip(commandText, 200)}\` requested by <@${user}> — ${state}`;
  return { text: line, blocks: [section(line)] };
}

export const queuedMessage = (commandText: string, user: string) => parent(commandText, user, 'queued');

export const runningMessage = (commandText: string, user: string) =>
  parent(commandText, user, ':hourglass_flowing_sand: running');

export function verdictMessage(
  commandText: string,
  user: string,
  verdict: JobResult['verdict'],
  summary: string,
  durationMs: number,
): ParentMessage {
  return parent(
    commandText,
    user,
    `${VERDICT_ICON[verdict]} *${verdict}*: ${clip(summary, 500)} (${seconds(durationMs)})`,
  );
}

export function failedMessage(commandText: string, user: string, durationMs: number): ParentMessage {
  return parent(
    commandText,
    user,
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

export function unavailableMessage(commandText: string, user: string): ParentMessage {
  return parent(
    commandText,
    user,
    `${VERDICT_ICON.failed} *not queued*: the job queue (Redis) is unavailable; try again shortly`,
  );
}
