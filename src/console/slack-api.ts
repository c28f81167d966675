import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call as received: the method and its decoded arguments (blocks parsed from JSON). */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
  /** Set when the call was refused with HTTP 429 for exceeding a limit (not for an injected fault). */
  limited?: true;
}

/**
 * Slack's rate limits as this fake enforces them, each as a token bucket (full at start). Slack publishes rates,
 * not burst sizes (docs.slack.dev/apis/web-api/rate-limits): "1 per second" per channel for chat.postMessage with
 * "short bursts >1 allowed", and per-minute tiers per method for the workspace. The burst sizes are this fake's.
 */
export interface SlackLimits {
  /** chat.postMessage into one channel. */
  channel: { burst: number; perSecond: number };
  /** Calls per minute per method, across the workspace (the bucket holds one minute's worth). */
  perMinute: Record<string, number>;
}

export const SLACK_LIMITS: SlackLimits = {
  channel: { burst: 6, perSecond: 1 },
  perMinute: {
    // "several hundred messages per minute" (chat.postMessage), Tier 3 (chat.update), Tier 4, Tier 2, Tier 4, Tier 4.
    'chat.postMessage': 300,
    'chat.update': 50,
    'chat.postEphemeral': 100,
    'usergroups.users.list': 20,
    'users.info': 100,
    'files.getUploadURLExternal': 100,
    'files.completeUploadExternal': 100,
  },
};

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  user?: string;
  ephemeralFor?: string;
  edited?: number;
  /** Files shared into the message (files.completeUploadExternal); `url` is served by this stub. */
  files?: SharedFile[];
}

export interface SharedFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  url: string;
  alt?: string;
}

/** A file between files.getUploadURLExternal and files.completeUploadExternal, then shared. */
interface UploadedFile {
  id: string;
  name: string;
  length: number;
  alt?: string;
  bytes?: Buffer;
}

/**
 * Where a `response_url` points, as Slack knows it: the channel and user of the slash command or click, and for a
 * click the message that held the button. With a target, what is posted there becomes a message as in Slack.
 */
export interface ResponseTarget {
  channel: string;
  user: string;
  messageTs?: string;
}

export type SlackApiEvent =
  | { kind: 'message' | 'update'; message: StoredMessage }
  | { kind: 'delete'; message: StoredMessage }
  | { kind: 'response'; id: string; payload: Record<string, unknown> };

/** Serves a request the Web API does not know (the console's page, its events); returns false for a 404. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse, url: URL, body: string) => boolean;

export interface SlackApiOptions {
  port?: number;
  host?: string;
  /** Display names for `users.info`, by user ID. */
  users?: ReadonlyMap<string, string>;
  routes?: ExtraRoutes;
  /** Slack's rate limits, on unless a benchmark says otherwise. */
  limits?: SlackLimits;
}

/** A fault the next matching call gets instead of success: a Slack error code or an HTTP status. */
export type Fault =
  | { method: string; channel?: string; error: string; times?: number }
  | { method: string; channel?: string; status: 429; retryAfter: number; times?: number }
  | { method: string; channel?: string; status: 500 | 502 | 503; times?: number };

export interface SlackApiStub {
  url: string;
  /** Base of response_url endpoints handed out in slash-command payloads. */
  responseUrl(id: string): string;
  calls: RecordedCall[];
  messages: StoredMessage[];
  /** What was posted to response_url endpoints, by id. */
  responses: Map<string, Record<string, unknown>[]>;
  /** Response ids whose posts become messages (the console registers one per command and click). */
  responseTargets: Map<string, ResponseTarget>;
  /** Adds a message Slack itself shows (a slash command's ack text, Slack's own errors), with a fresh ts. */
  add(message: Omit<StoredMessage, 'ts'>): StoredMessage;
  fault(f: Fault): void;
  /** Channels the bot is not a member of: posts there fail with not_in_channel. */
  notInChannel: Set<string>;
  userGroups: Map<string, string[]>;
  /** The bot token's granted scopes: Slack returns them on every Web API answer in `x-oauth-scopes`. */
  scopes: Set<string>;
  /** Serves a further method (e.g. apps.connections.open for the Socket Mode fake); `auth` is the bearer token. */
  extend(method: string, handler: (args: Record<string, unknown>, auth: string | undefined) => unknown): void;
  /** Returns a function that removes the listener. */
  onChange(listener: (event: SlackApiEvent) => void): () => void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What a file's first bytes say it is (the stub serves back what was uploaded, PNG or not). */
const mimetypeOf = (bytes: Buffer) =>
  bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    ? 'image/png'
    : 'application/octet-stream';

function decodeArgs(req: IncomingMessage, body: string): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return body ? (JSON.parse(body) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    out[k] = (k === 'blocks' || k === 'attachments') && v.startsWith('[') ? JSON.parse(v) : v;
  }
  return out;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * The Slack Web API methods meshops calls, served on loopback: the local console's backend and the
 * tests' Slack. Messages are kept like Slack keeps them (ts per channel, threads, in-place edits).
 */
export async function startSlackApi(options: SlackApiOptions = {}): Promise<SlackApiStub> {
  const port = options.port ?? 0;
  const host = options.host ?? '127.0.0.1';
  const calls: RecordedCall[] = [];
  const messages: StoredMessage[] = [];
  const responses = new Map<string, Record<string, unknown>[]>();
  const responseTargets = new Map<string, ResponseTarget>();
  const faults: Fault[] = [];
  const notInChannel = new Set<string>();
  const userGroups = new Map<string, string[]>();
  // What installing deploy/slack-app-manifest.yaml grants.
  const scopes = new Set(['commands', 'chat:write', 'files:write', 'usergroups:read', 'users:read']);
  const listeners = new Set<(event: SlackApiEvent) => void>();
  const extensions = new Map<string, Parameters<SlackApiStub['extend']>[1]>();
  const limits = options.limits ?? SLACK_LIMITS;
  const buckets = new Map<string, { tokens: number; at: number }>();
  /** Takes a token; returns 0, or the ms until one is there (nothing taken). */
  const spend = (key: string, capacity: number, perMs: number): number => {
    const now = performance.now();
    const bucket = buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / perMs;
  };
  /** The wait Slack would ask for before this call may be made, or 0 when it is within every limit. */
  const overLimit = (method: string, channel: string | undefined): number => {
    const perMinute = limits.perMinute[method];
    const methodWait = perMinute ? spend(`method:${method}`, perMinute, perMinute / 60_000) : 0;
    if (methodWait > 0) return methodWait;
    // A file shared into a channel is a message there too.
    if ((method !== 'chat.postMessage' && method !== 'files.completeUploadExternal') || !channel) return 0;
    const { burst, perSecond } = limits.channel;
    return spend(`channel:${channel}`, burst, perSecond / 1000);
  };
  const files = new Map<string, UploadedFile>();
  let base = '';
  let clock = Math.floor(Date.now() / 1000);
  let seq = 0;
  const nextTs = () => {
    seq += 1;
    const now = Math.floor(Date.now() / 1000);
    if (now > clock) clock = now;
    return `${clock}.${String(seq).padStart(6, '0')}`;
  };
  const emit = (event: SlackApiEvent) => {
    for (const l of listeners) l(event);
  };
  const add = (message: Omit<StoredMessage, 'ts'>): StoredMessage => {
    const stored = { ...message, ts: nextTs() };
    messages.push(stored);
    emit({ kind: 'message', message: stored });
    return stored;
  };

  // Slack's rules for a response_url post (docs.slack.dev/interactivity/handling-user-interaction): ephemeral
  // unless `in_channel`; `replace_original` / `delete_original` act on the clicked message only.
  function applyResponse(target: ResponseTarget, payload: Record<string, unknown>): void {
    const flag = (v: unknown) => v === true || v === 'true';
    const original = target.messageTs
      ? messages.find((m) => m.channel === target.channel && m.ts === target.messageTs)
      : undefined;
    if (original && flag(payload.delete_original)) {
      messages.splice(messages.indexOf(original), 1);
      emit({ kind: 'delete', message: original });
      return;
    }
    const text = typeof payload.text === 'string' ? payload.text : '';
    const blocks = Array.isArray(payload.blocks) ? payload.blocks : [];
    if (original && flag(payload.replace_original)) {
      original.text = text;
      original.blocks = blocks;
      original.edited = Date.now();
      emit({ kind: 'update', message: original });
      return;
    }
    const threadTs = typeof payload.thread_ts === 'string' ? payload.thread_ts : undefined;
    add({
      channel: target.channel,
      text,
      blocks,
      user: 'U0MESHBOT',
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...(payload.response_type === 'in_channel' ? {} : { ephemeralFor: target.user }),
    });
  }

  function takeFault(method: string, channel: string | undefined): Fault | undefined {
    const i = faults.findIndex(
      (f) => f.method === method && (f.channel === undefined || f.channel === channel),
    );
    if (i < 0) return undefined;
    const f = faults[i]!;
    const left = (f.times ?? 1) - 1;
    if (left <= 0) faults.splice(i, 1);
    else faults[i] = { ...f, times: left };
    return f;
  }

  function handle(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const channel = typeof args.channel === 'string' ? args.channel : undefined;
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://meshops.slack.com/',
          team: 'meshops',
          user: 'meshops',
          team_id: 'T0MESHOPS',
          user_id: 'U0MESHBOT',
          bot_id: 'B0MESHBOT',
        };
      case 'chat.postMessage': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
        const message: StoredMessage = {
          channel,
          ts: nextTs(),
          text: String(args.text ?? ''),
          blocks: Array.isArray(args.blocks) ? args.blocks : [],
          ...(typeof args.thread_ts === 'string' ? { thread_ts: args.thread_ts } : {}),
          user: 'U0MESHBOT',
        };
        messages.push(message);
        emit({ kind: 'message', message });
        return {
          ok: true,
          channel,
          ts: message.ts,
          message: { ...message, type: 'message', bot_id: 'B0MESHBOT' },
        };
      }
      case 'chat.update': {
        // As in Slack, an ephemeral message cannot be updated this way (only through its response_url).
        const message = messages.find((m) => m.channel === channel && m.ts === args.ts && !m.ephemeralFor);
        if (!message) return { ok: false, error: 'message_not_found' };
        message.text = String(args.text ?? message.text);
        if (Array.isArray(args.blocks)) message.blocks = args.blocks;
        message.edited = Date.now();
        emit({ kind: 'update', message });
        return { ok: true, channel, ts: message.ts, text: message.text };
      }
      case 'chat.postEphemeral': {
        if (!channel || typeof args.user !== 'string') return { ok: false, error: 'invalid_arguments' };
        const message: StoredMessage = {
          channel,
          ts: nextTs(),
          text: String(args.text ?? ''),
          blocks: Array.isArray(args.blocks) ? args.blocks : [],
          ephemeralFor: args.user,
          ...(typeof args.thread_ts === 'string' ? { thread_ts: args.thread_ts } : {}),
        };
        messages.push(message);
        emit({ kind: 'message', message });
        return { ok: true, message_ts: message.ts };
      }
      // Slack's external upload flow (docs.slack.dev files.getUploadURLExternal / completeUploadExternal).
      case 'files.getUploadURLExternal': {
        const length = Number(args.length);
        if (typeof args.filename !== 'string' || !args.filename || !(length > 0))
          return { ok: false, error: 'missing_argument' };
        if (typeof args.alt_txt === 'string' && args.alt_txt.length > 1000)
          return { ok: false, error: 'alt_txt_too_large' };
        seq += 1;
        const id = `F0${String(seq).padStart(9, '0')}`;
        files.set(id, {
          id,
          name: args.filename,
          length,
          ...(typeof args.alt_txt === 'string' ? { alt: args.alt_txt } : {}),
        });
        return { ok: true, upload_url: `${base}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const list = (typeof args.files === 'string' ? JSON.parse(args.files) : args.files) as
          | { id?: string; title?: string }[]
          | undefined;
        if (!Array.isArray(list) || list.length === 0) return { ok: false, error: 'invalid_arguments' };
        const uploaded = list.map((f) => ({ f, file: files.get(String(f.id)) }));
        if (uploaded.some((u) => !u.file?.bytes)) return { ok: false, error: 'file_not_found' };
        const target = typeof args.channel_id === 'string' ? args.channel_id : undefined;
        if (target && notInChannel.has(target)) return { ok: false, error: 'not_in_channel' };
        const shared: SharedFile[] = uploaded.map(({ f, file }) => ({
          id: file!.id,
          name: file!.name,
          title: f.title ?? file!.name,
          mimetype: mimetypeOf(file!.bytes!),
          url: `${base}/files/${file!.id}`,
          ...(file!.alt ? { alt: file!.alt } : {}),
        }));
        // "If not specified the file will be private": only a channel makes a message.
        if (target) {
          const message: StoredMessage = {
            channel: target,
            ts: nextTs(),
            text: typeof args.initial_comment === 'string' ? args.initial_comment : '',
            blocks: [],
            ...(typeof args.thread_ts === 'string' ? { thread_ts: args.thread_ts } : {}),
            user: 'U0MESHBOT',
            files: shared,
          };
          messages.push(message);
          emit({ kind: 'message', message });
        }
        return { ok: true, files: shared.map((f) => ({ id: f.id, title: f.title })) };
      }
      case 'usergroups.users.list': {
        const users = userGroups.get(String(args.usergroup));
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'users.info': {
        const name = options.users?.get(String(args.user)) ?? String(args.user).toLowerCase();
        return {
          ok: true,
          user: { id: args.user, name, real_name: name, profile: { display_name: name, real_name: name } },
        };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const bytes = await readBody(req);
    const body = bytes.toString('utf8');
    const upload = /^\/upload\/([A-Z0-9]+)$/.exec(url.pathname);
    if (upload && req.method === 'POST') {
      const file = files.get(upload[1]!);
      if (!file || file.bytes || bytes.length !== file.length) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('upload rejected');
        return;
      }
      file.bytes = bytes;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${bytes.length}`);
      return;
    }
    const served = /^\/files\/([A-Z0-9]+)$/.exec(url.pathname);
    if (served && req.method === 'GET') {
      const file = files.get(served[1]!);
      if (!file?.bytes) send(res, 404, { ok: false, error: 'file_not_found' });
      else res.writeHead(200, { 'content-type': mimetypeOf(file.bytes) }).end(file.bytes);
      return;
    }
    const respond = /^\/response\/([^/]+)$/.exec(url.pathname);
    if (respond && req.method === 'POST') {
      const id = decodeURIComponent(respond[1]!);
      const payload = JSON.parse(body || '{}') as Record<string, unknown>;
      const list = responses.get(id) ?? [];
      list.push(payload);
      responses.set(id, list);
      const target = responseTargets.get(id);
      if (target) applyResponse(target, payload);
      emit({ kind: 'response', id, payload });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    const api = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname);
    if (!api) {
      if (!options.routes?.(req, res, url, body)) send(res, 404, { ok: false, error: 'not_found' });
      return;
    }
    const method = api[1]!;
    const args = decodeArgs(req, body);
    const channel = typeof args.channel === 'string' ? args.channel : undefined;
    const shareChannel = typeof args.channel_id === 'string' ? args.channel_id : undefined;
    const waitMs = overLimit(method, channel ?? shareChannel);
    calls.push({ method, args, at: Date.now(), ...(waitMs > 0 ? { limited: true as const } : {}) });
    if (waitMs > 0) {
      send(
        res,
        429,
        { ok: false, error: 'ratelimited' },
        { 'retry-after': String(Math.ceil(waitMs / 1000)) },
      );
      return;
    }
    const fault = takeFault(method, channel);
    if (fault && 'status' in fault) {
      if (fault.status === 429)
        send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter) });
      else send(res, fault.status, { ok: false, error: 'internal_error' });
      return;
    }
    if (fault) {
      send(res, 200, { ok: false, error: fault.error });
      return;
    }
    const extension = extensions.get(method);
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    send(res, 200, extension ? extension(args, auth) : handle(method, args), {
      'x-oauth-scopes': [...scopes].join(','),
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  base = `http://${host}:${bound}`;
  return {
    url: `${base}/api/`,
    responseUrl: (id) => `${base}/response/${encodeURIComponent(id)}`,
    calls,
    messages,
    responses,
    responseTargets,
    add,
    fault: (f) => faults.push(f),
    notInChannel,
    userGroups,
    scopes,
    extend: (method, handler) => extensions.set(method, handler),
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
