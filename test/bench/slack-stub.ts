// The Slack Web API stand-in in a process of its own, so the process that measures latency does not also
// serve the bot's posts. `bench.counts` answers how many parents and thread replies it holds, and which
// requesters (channel:user) finished parents name. Slack's per-channel limit is enforced; its workspace-wide
// per-method tiers are not: the ack benchmark sends one workspace thousands of commands a minute, far beyond
// anything Slack would accept from one workspace, to load the app.
import { SLACK_LIMITS, startSlackApi } from '../../src/console/slack-api.ts';

const slack = await startSlackApi({ limits: { channel: SLACK_LIMITS.channel, perMinute: {} } });
slack.extend('bench.counts', () => {
  const named = new Set<string>();
  for (const m of slack.messages)
    if (!m.thread_ts && !/— :hourglass_flowing_sand: running$/.test(m.text))
      for (const [, user] of m.text.matchAll(/<@(\w+)>/g)) named.add(`${m.channel}:${user}`);
  return {
    ok: true,
    parents: slack.messages.filter((m) => !m.thread_ts).length,
    replies: slack.messages.filter((m) => m.thread_ts).length,
    limited: slack.calls.filter((c) => c.limited).length,
    named: [...named],
  };
});
process.stdout.write(`listening ${slack.url}\n`);
