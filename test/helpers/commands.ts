import assert from 'node:assert/strict';
import type { KnownBlock } from '@slack/types';
import type { Harness } from './harness.ts';
import { blocksText } from './slack-limits.ts';

/** Types `/mesh <text>` in `channel` and waits for its verdict: the parent, the thread and its text. */
export async function runCommand(h: Harness, text: string, channel: string) {
  const ack = await h.command(text, { channel });
  assert.equal(ack.status, 200);
  const parent = await h.waitForVerdict(channel, `/mesh ${text}`, 30_000);
  const replies = h.thread(channel, parent.ts);
  return { parent, replies, text: replies.map((m) => blocksText(m.blocks as KnownBlock[])).join('\n') };
}

/** Milliseconds from sending `/mesh <text>` in `channel` until its first thread reply reaches Slack. */
export async function timeToFirstReply(h: Harness, text: string, channel: string): Promise<number> {
  const reply = new Promise<number>((resolve) => {
    const off = h.slack.onChange((e) => {
      if (e.kind === 'message' && e.message.channel === channel && e.message.thread_ts) {
        off();
        resolve(performance.now());
      }
    });
  });
  const started = performance.now();
  await h.command(text, { channel });
  return (await reply) - started;
}
