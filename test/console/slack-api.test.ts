import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReplyPort } from '../../src/chat/reply.ts';
import { type SlackApiEvent, type SlackApiStub, startSlackApi } from '../../src/console/slack-api.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createRedis } from '../../src/queue/connection.ts';
import { createChannelBudget } from '../../src/slack/channel-budget.ts';
import { createPoster } from '../../src/slack/poster.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

/** What Bolt's respond() does: POST JSON to the response_url. */
async function respond(slack: SlackApiStub, id: string, payload: Record<string, unknown>): Promise<number> {
  const res = await fetch(slack.responseUrl(id), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  await res.text();
  return res.status;
}

async function api(slack: SlackApiStub, method: string, args: Record<string, unknown>) {
  const res = await fetch(`${slack.url}${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer xoxb-test' },
    body: JSON.stringify(args),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe('the Slack stand-in: response_url posts become messages as in Slack', () => {
  let slack: SlackApiStub;
  const events: SlackApiEvent[] = [];
  before(async () => {
    slack = await startSlackApi({ users: new Map([['U0ALICE', 'alice']]) });
    slack.onChange((e) => events.push(e));
  });
  after(() => slack.close());

  it('is ephemeral to the user who typed the command unless in_channel', async () => {
    slack.responseTargets.set('cmd-1', { channel: 'C1', user: 'U0ALICE' });
    assert.equal(await respond(slack, 'cmd-1', { text: 'only you' }), 200);
    assert.equal(await respond(slack, 'cmd-1', { response_type: 'in_channel', text: 'everyone' }), 200);
    const [mine, shared] = slack.messages.filter((m) => m.channel === 'C1');
    assert.equal(mine?.text, 'only you');
    assert.equal(mine?.ephemeralFor, 'U0ALICE');
    assert.equal(shared?.text, 'everyone');
    assert.equal(shared?.ephemeralFor, undefined);
    assert.deepEqual(slack.responses.get('cmd-1')?.length, 2);
  });

  it('replaces or deletes the clicked message, and only that one', async () => {
    const posted = await api(slack, 'chat.postMessage', { channel: 'C2', text: 'approve?', blocks: [] });
    const other = await api(slack, 'chat.postMessage', { channel: 'C2', text: 'untouched', blocks: [] });
    slack.responseTargets.set('click-1', { channel: 'C2', user: 'U0BOB', messageTs: String(posted.ts) });
    await respond(slack, 'click-1', { replace_original: 'true', text: 'approved by bob' });
    const byTs = (ts: unknown) => slack.messages.find((m) => m.channel === 'C2' && m.ts === ts);
    assert.equal(byTs(posted.ts)?.text, 'approved by bob');
    assert.ok(byTs(posted.ts)?.edited);
    await respond(slack, 'click-1', { delete_original: true });
    assert.equal(byTs(posted.ts), undefined);
    assert.equal(byTs(other.ts)?.text, 'untouched');
    assert.ok(events.some((e) => e.kind === 'delete' && e.message.ts === posted.ts));
  });

  it('refuses chat.update on an ephemeral message, as Slack does', async () => {
    const posted = await api(slack, 'chat.postEphemeral', {
      channel: 'C5',
      user: 'U0ALICE',
      text: 'only you',
    });
    const update = await api(slack, 'chat.update', { channel: 'C5', ts: posted.message_ts, text: 'changed' });
    assert.deepEqual(update, { ok: false, error: 'message_not_found' });
    assert.equal(slack.messages.find((m) => m.channel === 'C5')?.text, 'only you');
  });

  it('replies in a thread when the payload names one', async () => {
    slack.responseTargets.set('cmd-2', { channel: 'C3', user: 'U0ALICE' });
    await respond(slack, 'cmd-2', { text: 'in thread', thread_ts: '123.000001', replace_original: false });
    const reply = slack.messages.find((m) => m.channel === 'C3');
    assert.equal(reply?.thread_ts, '123.000001');
    assert.equal(reply?.ephemeralFor, 'U0ALICE');
  });

  it('only records posts to response URLs nobody registered (what the tests read)', async () => {
    const before = slack.messages.length;
    await respond(slack, 'unregistered', { text: 'recorded' });
    assert.equal(slack.messages.length, before);
    assert.deepEqual(slack.responses.get('unregistered'), [{ text: 'recorded' }]);
  });

  it('names users, stops telling a listener that unsubscribed, and 404s unknown paths', async () => {
    assert.deepEqual((await api(slack, 'users.info', { user: 'U0ALICE' })).user, {
      id: 'U0ALICE',
      name: 'alice',
      real_name: 'alice',
      profile: { display_name: 'alice', real_name: 'alice' },
    });
    let heard = 0;
    const off = slack.onChange(() => heard++);
    slack.add({ channel: 'C4', text: 'one', blocks: [] });
    off();
    slack.add({ channel: 'C4', text: 'two', blocks: [] });
    assert.equal(heard, 1);
    const res = await fetch(slack.url.replace(/api\/$/, 'nothing-here'));
    assert.equal(res.status, 404);
  });
});

describe("the Slack stand-in: the external upload flow, driven by meshops' poster", () => {
  let slack: SlackApiStub;
  let poster: ReplyPort;
  const redis = createRedis(REDIS_URL);
  const prefix = uniquePrefix('upload');
  before(async () => {
    slack = await startSlackApi();
    poster = createPoster({
      token: 'xoxb-test',
      apiUrl: slack.url,
      log: createLogger('silent'),
      budget: createChannelBudget({ redis, prefix, log: createLogger('silent') }),
      maxRetries: 0,
    });
  });
  after(async () => {
    await slack.close();
    redis.disconnect();
    await dropPrefix(prefix);
  });
  const PNG = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.alloc(64, 7),
  ]);

  it('shares the bytes into the thread with title and alt text, the three calls in order', async () => {
    const parent = await poster.post({ channel: 'C0UP', text: 'parent' });
    const { fileId } = await poster.upload({
      channel: 'C0UP',
      thread_ts: parent.ts,
      filename: 'chart.png',
      title: 'A chart',
      altText: 'request rate per version',
      data: PNG,
    });
    const shared = slack.messages.find((m) => m.files?.some((f) => f.id === fileId));
    assert.equal(shared?.thread_ts, parent.ts);
    assert.deepEqual(
      { ...shared!.files![0]!, url: undefined },
      {
        id: fileId,
        name: 'chart.png',
        title: 'A chart',
        mimetype: 'image/png',
        url: undefined,
        alt: 'request rate per version',
      },
    );
    assert.deepEqual(Buffer.from(await (await fetch(shared!.files![0]!.url)).arrayBuffer()), PNG);
    const methods = slack.calls.map((c) => c.method).filter((m) => m.startsWith('files.'));
    assert.deepEqual(methods, ['files.getUploadURLExternal', 'files.completeUploadExternal']);
    assert.equal(
      slack.calls.find((c) => c.method === 'files.getUploadURLExternal')!.args.alt_txt,
      'request rate per version',
    );
  });

  it('answers not_in_channel for a channel the bot is not in, and shares nothing', async () => {
    slack.notInChannel.add('C0OUT');
    const before = slack.messages.length;
    await assert.rejects(
      poster.upload({ channel: 'C0OUT', filename: 'c.png', title: 't', altText: 'a', data: PNG }),
      /not_in_channel/,
    );
    assert.equal(slack.messages.length, before);
  });

  it('refuses to complete an upload whose bytes never arrived, and an empty file', async () => {
    const started = await api(slack, 'files.getUploadURLExternal', { filename: 'x.png', length: 10 });
    assert.equal(started.ok, true);
    const done = await api(slack, 'files.completeUploadExternal', {
      files: [{ id: started.file_id, title: 'x' }],
      channel_id: 'C0UP',
    });
    assert.equal(done.error, 'file_not_found');
    assert.equal(
      (await api(slack, 'files.getUploadURLExternal', { filename: 'x.png', length: 0 })).error,
      'missing_argument',
    );
  });
});
