import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeSlack, type Names } from './mrkdwn.ts';
import { type Delivery, sendClick, sendCommand } from './relay.ts';
import { findButton, messageToHtml } from './render.ts';
import { type SlackApiStub, type StoredMessage, startSlackApi } from './slack-api.ts';
import { SLACKBOT, type Workspace } from './workspace.ts';

/** A control of the simulation the page offers beside the chat (restart pilot, tunnel down, …). */
export interface FaultAction {
  id: string;
  label: string;
  hint: string;
}

export interface FaultPanel {
  actions: readonly FaultAction[];
  /** Runs one action and says what changed, in a line for the page. */
  run(id: string): Promise<string>;
}

export interface ConsoleOptions {
  workspace: Workspace;
  /** The app's signing secret: the console signs what it sends exactly as Slack does. */
  signingSecret: string;
  port?: number;
  host?: string;
}

export interface SlackConsole {
  /** The page, e.g. http://127.0.0.1:3000/ */
  url: string;
  /** The Web API base the bot's SLACK_API_URL points at. */
  apiUrl: string;
  slack: SlackApiStub;
  /** Where slash commands and clicks go: the bot's request URL (…/slack/events), known once it listens. */
  connect(eventsUrl: string): void;
  /** The simulation controls the page offers, once there is a simulation. */
  useFaults(panel: FaultPanel): void;
  close(): Promise<void>;
}

/** A message as the page gets it: rendered once here, so the browser only places HTML. */
export interface ViewMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  author: { id: string; name: string; bot: boolean };
  ephemeral: boolean;
  html: string;
}

const PUBLIC = new URL('./public/', import.meta.url);
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
};

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const LOCAL_HOST = /^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])(:\d+)?$/i;

/**
 * Why a post to the console is refused, if it is: the console acts as alice or bob, so a page on another
 * site must not be able to post for them. A JSON body cannot be sent cross-site without a CORS preflight
 * (which the console never grants), a browser's Origin must be the console's own, and the Host must be an
 * address, not a name that could be re-bound to this machine.
 */
function crossSite(req: IncomingMessage): string | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return 'the console takes JSON bodies only';
  const host = req.headers.host ?? '';
  if (!LOCAL_HOST.test(host)) return `the console answers only on localhost or an IP address, not "${host}"`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return 'cross-site requests are refused';
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return 'cross-site requests are refused';
  return undefined;
}

function parseJson(body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/**
 * The local Slack stand-in: one HTTP server that is the Web API the bot calls (`/api/…`, `/response/…`) and the
 * page a person uses. Commands and clicks reach the bot the way Slack sends them — signed form posts to its
 * request URL — so the bot runs exactly its production path.
 */
export async function startConsole(options: ConsoleOptions): Promise<SlackConsole> {
  const { workspace } = options;
  const files = new Map(
    Object.entries(STATIC).map(([path, s]) => [path, { ...s, body: readFileSync(new URL(s.file, PUBLIC)) }]),
  );
  const userById = new Map(workspace.users.map((u) => [u.id, u]));
  const channelById = new Map(workspace.channels.map((c) => [c.id, c]));
  const names: Names = {
    user: (id) => (id === workspace.bot.id ? workspace.bot.name : userById.get(id)?.name),
    channel: (id) => channelById.get(id)?.name,
  };
  let eventsUrl: string | undefined;
  let faults: FaultPanel | undefined;
  let faultQueue: Promise<unknown> = Promise.resolve();

  const slack: SlackApiStub = await startSlackApi({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    users: new Map(workspace.users.map((u) => [u.id, u.name])),
    routes: (req, res, url, body) => route(req, res, url, body),
  });
  const base = slack.url.replace(/api\/$/, '');

  function view(m: StoredMessage): ViewMessage {
    const author =
      m.user === SLACKBOT.id
        ? { id: SLACKBOT.id, name: SLACKBOT.name, bot: true }
        : m.user && userById.has(m.user)
          ? { id: m.user, name: userById.get(m.user)!.name, bot: false }
          : { id: workspace.bot.id, name: workspace.bot.name, bot: true };
    return {
      channel: m.channel,
      ts: m.ts,
      ...(m.thread_ts ? { threadTs: m.thread_ts } : {}),
      author,
      ephemeral: m.ephemeralFor !== undefined,
      html: messageToHtml(m, names),
    };
  }

  const visibleTo = (user: string) => (m: StoredMessage) =>
    m.ephemeralFor === undefined || m.ephemeralFor === user;

  /** What Slack itself says to one person (its own errors), in the channel they typed in. */
  const slackbotSays = (channel: string, user: string, text: string) =>
    slack.add({ channel, text, blocks: [], user: SLACKBOT.id, ephemeralFor: user });

  function events(res: ServerResponse, user: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const visible = visibleTo(user);
    send('snapshot', { messages: slack.messages.filter(visible).map(view) });
    const off = slack.onChange((e) => {
      if (e.kind === 'response' || !visible(e.message)) return;
      if (e.kind === 'delete') send('remove', { channel: e.message.channel, ts: e.message.ts });
      else send('upsert', view(e.message));
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    // The request has long ended (its body was read before routing); the response closes with the connection.
    res.on('close', () => {
      off();
      clearInterval(heartbeat);
    });
  }

  function reportFailure(channel: string, user: string, what: string, delivery: Delivery): void {
    if (!delivery.ok) slackbotSays(channel, user, `${what} failed with the error "${delivery.error}"`);
  }

  async function command(user: string, channel: string, input: string): Promise<void> {
    const typed = /^(\/\S+)\s*([\s\S]*)$/.exec(input);
    // What a person types reaches Slack's API and apps with &, < and > escaped, as Slack's own client sends it:
    // typed "<!channel>" is text, not a mention, and an app decoding the entities gets back exactly what was typed.
    if (!typed) {
      slack.add({ channel, text: escapeSlack(input), blocks: [], user });
      return;
    }
    const [, name = '', text = ''] = typed;
    if (!workspace.commands.includes(name)) {
      slackbotSays(
        channel,
        user,
        `\`${name}\` is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands.`,
      );
      return;
    }
    if (!eventsUrl) {
      slackbotSays(channel, user, `${name} failed with the error "dispatch_failed"`);
      return;
    }
    const responseId = randomUUID();
    slack.responseTargets.set(responseId, { channel, user });
    const delivery = await sendCommand(eventsUrl, options.signingSecret, {
      command: name,
      text: escapeSlack(text.trim()),
      userId: user,
      userName: userById.get(user)?.name ?? user,
      channelId: channel,
      channelName: channelById.get(channel)?.name ?? channel,
      responseUrl: slack.responseUrl(responseId),
    });
    if (delivery.ok && delivery.ack) {
      const ack = delivery.ack;
      slack.add({
        channel,
        text: str(ack.text),
        blocks: Array.isArray(ack.blocks) ? ack.blocks : [],
        user: workspace.bot.id,
        ...(ack.response_type === 'in_channel' ? {} : { ephemeralFor: user }),
      });
    }
    reportFailure(channel, user, name, delivery);
  }

  async function click(user: string, channel: string, ts: string, blockId: string, actionId: string) {
    const message = slack.messages.find((m) => m.channel === channel && m.ts === ts && visibleTo(user)(m));
    const button = message && findButton(message.blocks, blockId, actionId);
    if (!message || !button) return false;
    if (!eventsUrl) {
      slackbotSays(channel, user, `The button "${button.text}" failed with the error "dispatch_failed"`);
      return true;
    }
    const responseId = randomUUID();
    slack.responseTargets.set(responseId, { channel, user, messageTs: ts });
    const delivery = await sendClick(eventsUrl, options.signingSecret, {
      userId: user,
      userName: userById.get(user)?.name ?? user,
      channelId: channel,
      channelName: channelById.get(channel)?.name ?? channel,
      messageTs: ts,
      blockId,
      actionId,
      value: button.value,
      buttonText: button.text,
      responseUrl: slack.responseUrl(responseId),
      isEphemeral: message.ephemeralFor !== undefined,
      message: {
        text: message.text,
        blocks: message.blocks,
        ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
        ...(message.user ? { user: message.user } : {}),
      },
    });
    reportFailure(channel, user, `The button "${button.text}"`, delivery);
    return true;
  }

  function route(req: IncomingMessage, res: ServerResponse, url: URL, body: string): boolean {
    const file = req.method === 'GET' ? files.get(url.pathname) : undefined;
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
      res.end(file.body);
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/console/workspace') {
      json(res, 200, { ...workspace, faults: faults?.actions ?? [] });
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/console/events') {
      const user = url.searchParams.get('user') ?? '';
      if (!userById.has(user)) json(res, 400, { ok: false, error: `unknown user "${user}"` });
      else events(res, user);
      return true;
    }
    if (req.method !== 'POST') return false;
    if (url.pathname.startsWith('/console/')) {
      const refused = crossSite(req);
      if (refused) {
        json(res, 403, { ok: false, error: refused });
        return true;
      }
    }
    const input = parseJson(body);
    const user = str(input.user);
    const channel = str(input.channel);
    if (url.pathname === '/console/command' || url.pathname === '/console/click') {
      if (!userById.has(user) || !channelById.has(channel)) {
        json(res, 400, { ok: false, error: 'unknown user or channel' });
        return true;
      }
      if (url.pathname === '/console/command') {
        const text = str(input.text).trim();
        if (!text) json(res, 400, { ok: false, error: 'nothing to send' });
        else void command(user, channel, text).then(() => json(res, 200, { ok: true }));
      } else {
        void click(user, channel, str(input.ts), str(input.blockId), str(input.actionId)).then((found) =>
          json(res, found ? 200 : 404, found ? { ok: true } : { ok: false, error: 'no such button' }),
        );
      }
      return true;
    }
    const fault = /^\/console\/faults\/([a-z0-9-]+)$/.exec(url.pathname);
    if (fault && faults) {
      const panel = faults;
      const id = fault[1]!;
      if (!panel.actions.some((a) => a.id === id)) {
        json(res, 404, { ok: false, error: `unknown fault "${id}"` });
        return true;
      }
      // One change at a time: a reset must not interleave with the restart it undoes.
      const run = faultQueue.then(() => panel.run(id));
      faultQueue = run.catch(() => {});
      run.then(
        (message) => json(res, 200, { ok: true, message }),
        (err: unknown) =>
          json(res, 500, { ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
      return true;
    }
    return false;
  }

  return {
    url: base,
    apiUrl: slack.url,
    slack,
    connect: (url) => {
      eventsUrl = url;
    },
    useFaults: (panel) => {
      faults = panel;
    },
    close: () => slack.close(),
  };
}
