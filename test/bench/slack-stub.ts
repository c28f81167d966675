// The Slack Web API stand-in in a process of its own, so the process that measures latency does not also
// serve the bot's posts. `bench.counts` answers how many parents and thread replies it holds.
import { startSlackApi } from '../../src/console/slack-api.ts';

const slack = await startSlackApi();
slack.extend('bench.counts', () => ({
  ok: true,
  parents: slack.messages.filter((m) => !m.thread_ts).length,
  replies: slack.messages.filter((m) => m.thread_ts).length,
}));
process.stdout.write(`listening ${slack.url}\n`);
