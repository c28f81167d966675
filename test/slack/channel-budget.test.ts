import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { ReplyPort } from '../../src/chat/reply.ts';
import { type SlackApiStub, startSlackApi } from '../../src/console/slack-api.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createRedis } from '../../src/queue/connection.ts';
import { CHANNEL_BURST, createChannelBudget } from '../../src/slack/channel-budget.ts';
import { createPoster } from '../../src/slack/poster.ts';
import { BOT_TOKEN, LogSink } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

/** One replica's poster: its own Redis connection and budget object, sharing only the key prefix. */
function replica(slack: SlackApiStub, prefix: string, logs: LogSink): { poster: ReplyPort; redis: Redis } {
  const redis = createRedis(REDIS_URL);
  const log = createLogger('debug', logs);
  return {
    redis,
    poster: createPoster({
      token: BOT_TOKEN,
      apiUrl: slack.url,
      log,
      budget: createChannelBudget({ redis, prefix, log }),
    }),
  };
}

describe("the per-channel posting budget, against the fake Slack's limits", () => {
  let slack: SlackApiStub;
  const prefix = uniquePrefix('budget');
  const logs = new LogSink();
  const replicas: { poster: ReplyPort; redis: Redis }[] = [];
  before(async () => {
    slack = await startSlackApi();
    replicas.push(replica(slack, prefix, logs), replica(slack, prefix, logs));
  });
  after(async () => {
    for (const r of replicas) r.redis.disconnect();
    await slack.close();
    await dropPrefix(prefix);
  });

  const postsTo = (channel: string) =>
    slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === channel);

  it('two replicas posting into one channel share its budget: every message lands, no 429', async () => {
    const [a, b] = replicas;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? a! : b!).poster.post({ channel: 'C0SHARED', text: `message ${i}` }),
      ),
    );
    assert.equal(slack.messages.filter((m) => m.channel === 'C0SHARED').length, 12);
    assert.deepEqual(
      postsTo('C0SHARED').filter((c) => c.limited),
      [],
      'the fake Slack refused none: the replicas paced together',
    );
  });

  it('a quiet channel gets a burst at once', async () => {
    const [a] = replicas;
    for (let i = 0; i < 3; i++) await a!.poster.post({ channel: 'C0QUIET', text: `burst ${i}` });
    assert.equal(postsTo('C0QUIET').length, 3);
    assert.ok(postsTo('C0QUIET').every((c) => !c.limited));
  });

  it("after a quiet channel's burst, the next post is held about a second (Slack's 1/s), not a whole window", async () => {
    const budget = createChannelBudget({ redis: replicas[0]!.redis, prefix, log: createLogger('silent') });
    const held: number[] = [];
    for (let i = 0; i < CHANNEL_BURST + 2; i++) held.push(await budget.take('C0PACED'));
    assert.deepEqual(held.slice(0, CHANNEL_BURST), [0, 0, 0], 'the burst goes at once');
    for (const ms of held.slice(CHANNEL_BURST))
      assert.ok(
        ms > 0 && ms <= 1000,
        `then one a second: held ${ms} ms (limiter's own figure, not a timing)`,
      );
  });

  it('a 429 is waited out for its Retry-After, and the other replica holds its posts too', async () => {
    // Someone else (another app) spends the channel's whole burst in Slack's eyes.
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${slack.url}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BOT_TOKEN}` },
        body: JSON.stringify({ channel: 'C0BUSY', text: `other ${i}` }),
      });
      assert.equal(res.status, 200);
    }
    const [a, b] = replicas;
    const fromA = a!.poster.post({ channel: 'C0BUSY', text: 'from replica a' });
    const refused = await waitFor('Slack to answer 429', () => postsTo('C0BUSY').find((c) => c.limited));
    const fromB = b!.poster.post({ channel: 'C0BUSY', text: 'from replica b' });
    await Promise.all([fromA, fromB]);

    const texts = slack.messages.filter((m) => m.channel === 'C0BUSY').map((m) => m.text);
    assert.ok(texts.includes('from replica a') && texts.includes('from replica b'), 'both delivered');
    assert.deepEqual(
      postsTo('C0BUSY').filter((c) => c.at > refused.at && c.at < refused.at + 1000),
      [],
      'neither replica posted into the channel before Retry-After (1 s) had passed',
    );
    assert.match(logs.text(), /"method":"chat.postMessage".*Slack call failed; retrying/);
  });
});
