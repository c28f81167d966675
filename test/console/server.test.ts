import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REJECT_ACTION } from '../../src/approvals/types.ts';
import { parseEnv } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import { type SlackConsole, startConsole, type ViewMessage } from '../../src/console/server.ts';
import type { Workspace } from '../../src/console/workspace.ts';
import { defaultHandlers } from '../../src/jobs/index.ts';
import type { ActionJob } from '../../src/queue/jobs.ts';
import { type Meshops, startMeshops } from '../../src/runtime.ts';
import { actions, button } from '../../src/slack/render/blocks.ts';
import { LogSink, REFUSED_PORT, unreachableKubeconfig } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

const SECRET = 'console-test-secret-0123456789';
const WORKSPACE: Workspace = {
  name: 'test',
  users: [
    { id: 'U0ALICE', name: 'alice', role: 'operator' },
    { id: 'U0BOB', name: 'bob', role: 'approver' },
  ],
  channels: [{ id: 'C0MESHOPS', name: 'mesh-ops' }],
  commands: ['/mesh'],
  bot: { id: 'U0MESHBOT', name: 'meshops' },
};
const OPS = 'C0MESHOPS';

/** Reads the console's event stream as the page does, until `until` says it has seen enough. */
async function stream(
  console: SlackConsole,
  user: string,
  until: (messages: Map<string, ViewMessage>, event: string) => boolean,
): Promise<{ messages: Map<string, ViewMessage>; events: string[] }> {
  const controller = new AbortController();
  const res = await fetch(`${console.url}console/events?user=${user}`, { signal: controller.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const messages = new Map<string, ViewMessage>();
  const events: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const event = /^event: (.+)$/m.exec(frame)?.[1];
        const data = /^data: (.+)$/m.exec(frame)?.[1];
        if (!event || !data) continue;
        events.push(event);
        const parsed = JSON.parse(data);
        if (event === 'snapshot') for (const m of parsed.messages as ViewMessage[]) messages.set(m.ts, m);
        if (event === 'upsert') messages.set(parsed.ts, parsed);
        if (event === 'remove') messages.delete(parsed.ts);
        if (until(messages, event)) return { messages, events };
      }
    }
  } finally {
    controller.abort();
  }
  throw new Error('the event stream ended');
}

const snapshot = (console: SlackConsole, user: string) => stream(console, user, (_, e) => e === 'snapshot');

async function send(console: SlackConsole, path: string, body: Record<string, unknown>) {
  const res = await fetch(`${console.url}console/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The text a reader sees in a rendered message. */
const plain = (m: ViewMessage | undefined) =>
  (m?.html ?? '')
    .replace(/<[^>]+>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

describe('the console as Slack for a real meshops', () => {
  let slackConsole: SlackConsole;
  let meshops: Meshops;
  const clicks: ActionJob[] = [];
  const prefix = uniquePrefix('console');
  const logs = new LogSink();

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-console-'));
    unreachableKubeconfig(dir, 'icp');
    slackConsole = await startConsole({ workspace: WORKSPACE, signingSecret: SECRET });
    const handlers = defaultHandlers();
    handlers.actions[REJECT_ACTION] = async (job, ctx) => {
      clicks.push(job);
      await ctx.reply.ephemeral({ channel: job.channel, user: job.user, text: `echo ${job.value}` });
    };
    meshops = await startMeshops({
      role: 'all',
      env: parseEnv(
        {
          SLACK_SIGNING_SECRET: SECRET,
          SLACK_BOT_TOKEN: 'xoxb-console-test-0000',
          SLACK_API_URL: slackConsole.apiUrl,
          REDIS_URL,
          REDIS_PREFIX: prefix,
          PORT: '0',
          OPS_PORT: '0',
          LOG_LEVEL: 'debug',
        },
        'all',
      ),
      config: parseConfig(
        'clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]\naccess: {operators: [U0ALICE]}\n',
        join(dir, 'meshops.yaml'),
        dir,
      ),
      host: '127.0.0.1',
      logDestination: logs,
      handlers,
    });
    slackConsole.connect(`${meshops.url}/slack/events`);
  });
  after(async () => {
    await meshops.stop();
    await slackConsole.close();
    await dropPrefix(prefix);
  });

  it('serves the page and the workspace it shows', async () => {
    const page = await fetch(slackConsole.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/console.js">/);
    const ws = (await (await fetch(`${slackConsole.url}console/workspace`)).json()) as Workspace;
    assert.deepEqual(
      ws.users.map((u) => u.name),
      ['alice', 'bob'],
    );
  });

  it('sends a signed slash command and shows the ack only to the person who typed it', async () => {
    assert.equal(
      (await send(slackConsole, 'command', { user: 'U0ALICE', channel: OPS, text: '/mesh help' })).status,
      200,
    );
    const alice = await snapshot(slackConsole, 'U0ALICE');
    const help = [...alice.messages.values()].find((m) => plain(m).includes('/mesh status'));
    assert.ok(help, 'alice sees the help text');
    assert.equal(help.ephemeral, true);
    assert.equal(help.author.name, 'meshops');
    const bob = await snapshot(slackConsole, 'U0BOB');
    assert.equal(bob.messages.get(help.ts), undefined, 'bob does not see alice’s ephemeral');
  });

  it('hands the bot what was typed, escaped as Slack escapes it, so the bot quotes it back unchanged', async () => {
    await send(slackConsole, 'command', { user: 'U0ALICE', channel: OPS, text: '/mesh route apply a&amp;b' });
    await send(slackConsole, 'command', { user: 'U0ALICE', channel: OPS, text: '/mesh status <x>' });
    await send(slackConsole, 'command', {
      user: 'U0ALICE',
      channel: OPS,
      text: 'hello <!channel> &lt;b&gt;',
    });
    const alice = await stream(slackConsole, 'U0ALICE', (m) =>
      [...m.values()].some((x) => plain(x).includes('"<x>"')),
    );
    const shown = [...alice.messages.values()].map(plain);
    assert.ok(
      shown.some((t) => t.includes('"a&amp;b" is not allowed')),
      `the refusal quotes "a&amp;b" as typed: ${shown.join(' | ')}`,
    );
    assert.ok(shown.some((t) => t.includes('"<x>" is not allowed')));
    const said = [...alice.messages.values()].find((m) => plain(m).startsWith('hello'));
    assert.equal(
      plain(said),
      'hello <!channel> &lt;b&gt;',
      'typed text is shown as typed, never as a mention',
    );
    assert.doesNotMatch(said?.html ?? '', /mention/);
  });

  it('pushes the parent, its thread reply and the in-place verdict as they happen', async () => {
    const seen = stream(slackConsole, 'U0BOB', (messages) => {
      const parent = [...messages.values()].find((m) => plain(m).includes('/mesh clusters') && !m.threadTs);
      return (
        parent !== undefined &&
        /down|failed|healthy|degraded/.test(plain(parent)) &&
        [...messages.values()].some((m) => m.threadTs === parent.ts)
      );
    });
    await send(slackConsole, 'command', { user: 'U0ALICE', channel: OPS, text: '/mesh clusters' });
    const { messages, events } = await seen;
    const parent = [...messages.values()].find((m) => plain(m).includes('/mesh clusters') && !m.threadTs)!;
    assert.match(plain(parent), /requested by @alice/);
    assert.ok(
      events.filter((e) => e === 'upsert').length >= 3,
      `parent, update(s) and reply pushed: ${events}`,
    );
    const reply = [...messages.values()].find((m) => m.threadTs === parent.ts)!;
    assert.match(plain(reply), /icp/);
  });

  it('shows what the bot sends to the response_url to the person who typed the command', async () => {
    // The bot cannot post in the channel, so it answers through the command's response_url.
    slackConsole.slack.notInChannel.add(OPS);
    try {
      await send(slackConsole, 'command', { user: 'U0ALICE', channel: OPS, text: '/mesh clusters' });
      const alice = await stream(slackConsole, 'U0ALICE', (m) =>
        [...m.values()].some((x) => plain(x).includes('/invite @meshops')),
      );
      const advice = [...alice.messages.values()].find((x) => plain(x).includes('/invite @meshops'))!;
      assert.equal(advice.ephemeral, true);
      assert.equal(advice.author.name, 'meshops');
      const bob = await snapshot(slackConsole, 'U0BOB');
      assert.equal(bob.messages.get(advice.ts), undefined);
    } finally {
      slackConsole.slack.notInChannel.delete(OPS);
    }
  });

  it('answers an unknown slash command the way Slack does, without bothering the bot', async () => {
    await send(slackConsole, 'command', { user: 'U0ALICE', channel: OPS, text: '/deploy prod' });
    const alice = await snapshot(slackConsole, 'U0ALICE');
    const reply = [...alice.messages.values()].find((m) => plain(m).includes('/deploy'));
    assert.equal(reply?.author.name, 'Slackbot');
    assert.match(plain(reply), /is not a valid command/);
  });

  it('posts a click with the value from the stored message, as the person who clicked', async () => {
    const res = await fetch(`${slackConsole.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        channel: OPS,
        text: 'echo?',
        blocks: [actions(button('Echo', REJECT_ACTION, 'v-42'))],
      }),
    });
    const { ts } = (await res.json()) as { ts: string };
    const click = await send(slackConsole, 'click', {
      user: 'U0BOB',
      channel: OPS,
      ts,
      blockId: 'b0',
      actionId: REJECT_ACTION,
    });
    assert.equal(click.status, 200);
    const job = await waitFor('the click to reach the worker', () => clicks[0]);
    assert.equal(job.value, 'v-42');
    assert.equal(job.user, 'U0BOB');
    assert.equal(job.messageTs, ts);
    const bob = await stream(slackConsole, 'U0BOB', (m) =>
      [...m.values()].some((x) => plain(x) === 'echo v-42'),
    );
    assert.ok([...bob.messages.values()].some((x) => plain(x) === 'echo v-42' && x.ephemeral));
    const missing = await send(slackConsole, 'click', {
      user: 'U0BOB',
      channel: OPS,
      ts,
      blockId: 'b0',
      actionId: 'mesh.nope',
    });
    assert.equal(missing.status, 404);
  });

  it('refuses a command or click posted by another site, and every body that is not JSON', async () => {
    const before = slackConsole.slack.messages.length;
    const body = JSON.stringify({ user: 'U0ALICE', channel: OPS, text: '/mesh route apply reviews-v3' });
    const attempts: [string, Record<string, string>, string][] = [
      // What a form or a no-cors fetch on any web page can send without a preflight.
      ['text/plain', { 'content-type': 'text/plain' }, body],
      [
        'a form',
        { 'content-type': 'application/x-www-form-urlencoded' },
        `payload=${encodeURIComponent(body)}`,
      ],
      ['another origin', { 'content-type': 'application/json', origin: 'https://evil.example' }, body],
      ['cross-site fetch', { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, body],
    ];
    for (const [what, headers, payload] of attempts) {
      for (const path of ['command', 'click']) {
        const res = await fetch(`${slackConsole.url}console/${path}`, {
          method: 'POST',
          headers,
          body: payload,
        });
        assert.equal(res.status, 403, `${what} to ${path}`);
      }
    }
    // fetch cannot set Host: a page on a name re-bound to this machine, as the browser sends it.
    const u = new URL(`${slackConsole.url}console/command`);
    const rebound = await new Promise<number>((resolve, reject) =>
      request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            host: `evil.example:${u.port}`,
            origin: `http://evil.example:${u.port}`,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end(body),
    );
    assert.equal(rebound, 403, 'a re-bound name');
    assert.equal(slackConsole.slack.messages.length, before, 'nothing reached the bot');
    const own = new URL(slackConsole.url).origin;
    const res = await fetch(`${slackConsole.url}console/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: own, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ user: 'U0ALICE', channel: OPS, text: '/mesh help' }),
    });
    assert.equal(res.status, 200, 'the console page itself still posts');
  });

  it('refuses input that names no user or channel of the workspace', async () => {
    assert.equal(
      (await send(slackConsole, 'command', { user: 'U0MALLORY', channel: OPS, text: '/mesh help' })).status,
      400,
    );
    assert.equal(
      (await send(slackConsole, 'command', { user: 'U0ALICE', channel: 'C0NOPE', text: '/mesh help' }))
        .status,
      400,
    );
    assert.equal((await fetch(`${slackConsole.url}console/events?user=U0MALLORY`)).status, 400);
  });
});

describe('the console when the bot does not take the request', () => {
  it('shows Slack’s dispatch_failed when the bot rejects the signature or is not there', async () => {
    const c = await startConsole({ workspace: WORKSPACE, signingSecret: 'a-different-secret-entirely' });
    try {
      // A bot that checks signatures with another secret: 401, like a misconfigured app in Slack.
      const dir = mkdtempSync(join(tmpdir(), 'meshops-console-'));
      unreachableKubeconfig(dir, 'icp');
      const prefix = uniquePrefix('console-sig');
      const bot = await startMeshops({
        role: 'app',
        env: parseEnv(
          {
            SLACK_SIGNING_SECRET: SECRET,
            SLACK_BOT_TOKEN: 'xoxb-console-test-0000',
            SLACK_API_URL: c.apiUrl,
            REDIS_URL,
            REDIS_PREFIX: prefix,
            PORT: '0',
            OPS_PORT: '0',
            LOG_LEVEL: 'silent',
          },
          'app',
        ),
        config: parseConfig(
          'clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]',
          join(dir, 'm.yaml'),
          dir,
        ),
        host: '127.0.0.1',
      });
      c.connect(`${bot.url}/slack/events`);
      await send(c, 'command', { user: 'U0ALICE', channel: OPS, text: '/mesh help' });
      await bot.stop();
      c.connect(`http://127.0.0.1:${REFUSED_PORT}/slack/events`);
      await send(c, 'command', { user: 'U0ALICE', channel: OPS, text: '/mesh status' });
      const { messages } = await snapshot(c, 'U0ALICE');
      const texts = [...messages.values()].map(plain);
      assert.deepEqual(texts, [
        '/mesh failed with the error "dispatch_failed"',
        '/mesh failed with the error "dispatch_failed"',
      ]);
      await dropPrefix(prefix);
    } finally {
      await c.close();
    }
  });
});
