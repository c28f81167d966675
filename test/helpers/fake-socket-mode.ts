import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type ButtonClick,
  blockActionsBody,
  type SlashCommand,
  slashCommandBody,
} from '../../src/console/sign.ts';
import type { SlackApiStub } from '../../src/console/slack-api.ts';
import { waitFor } from './wait.ts';

export const APP_TOKEN = 'xapp-1-A0MESHOPS-1234567890-0123456789abcdef';

/** Slack's own `hello` frame (test/fixtures/socket/PROVENANCE.md), sent as the first frame of every connection. */
const HELLO = JSON.parse(
  readFileSync(new URL('../fixtures/socket/slack-docs-socket-mode.json', import.meta.url), 'utf8'),
).hello as Record<string, unknown>;

const SLACK_ACK_LIMIT_MS = 3000;

export interface Ack {
  envelopeId: string;
  payload: Record<string, unknown>;
  /** Connection the envelope went out on. */
  connection: number;
  ms: number;
}

export interface Envelope {
  envelope_id: string;
  type: 'slash_commands' | 'interactive' | 'events_api';
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

export interface FakeConnection {
  readonly id: number;
  /** `hello` sent and the connection is open. */
  readonly open: boolean;
  /** Pings the app sent here (each answered with a pong unless the connection is silent). */
  readonly pingsFromApp: number;
  /** The peer vanishes: nothing is read or written any more while TCP stays up (a half-open connection). */
  silence(): void;
  /** Pings and pongs go on, but Slack no longer routes envelopes here (slackapi/bolt-js#1906). */
  deafen(): void;
  /** Slack asks the app to reconnect. */
  disconnect(reason?: 'refresh_requested' | 'warning' | 'link_disabled'): void;
  /** The TCP connection breaks. */
  drop(): void;
}

export interface FakeSocketMode {
  readonly connections: readonly FakeConnection[];
  /** Successful apps.connections.open calls. */
  readonly opens: number;
  /** While false, apps.connections.open answers `internal_error`, as when Slack has an outage. */
  accepting: boolean;
  /** While false, new connections are upgraded but never get `hello` (pings still flow): a dial that hangs. */
  hello: boolean;
  /** Protocol faults seen from the app: acks without an outstanding envelope, frames that are not JSON acks. */
  readonly problems: readonly string[];
  /** Acks later than Slack's 3 s (figures for benchmarks; tests do not assert timings). */
  readonly lateAcks: number;
  /** The newest connection Slack would deliver to. */
  live(): FakeConnection | undefined;
  /** Waits until the n-th connection (1-based) has received `hello`. */
  waitForConnection(n: number, timeoutMs?: number): Promise<FakeConnection>;
  /** Sends an envelope and resolves with its ack; rejects when none comes within `ackWaitMs`. */
  deliver(envelope: Envelope, to?: FakeConnection): Promise<Ack>;
  /** A `/mesh …` slash command in an envelope, as Slack sends it in Socket Mode. */
  command(
    text: string,
    opts?: Partial<Omit<SlashCommand, 'text' | 'command'>>,
  ): Promise<{ ack: Ack; envelope: Envelope }>;
  click(
    opts: Omit<ButtonClick, 'responseUrl'> & { responseUrl?: string },
  ): Promise<{ ack: Ack; envelope: Envelope }>;
  close(): Promise<void>;
}

interface Waiter {
  connection: number;
  sent: number;
  resolve: (payload: Record<string, unknown>) => void;
}

interface ConnectionState extends FakeConnection {
  pingsFromApp: number;
  ws: WebSocket;
  socket: Socket;
  helloSent: boolean;
  closed: boolean;
  deaf: boolean;
  silent: boolean;
  pinger: NodeJS.Timeout;
}

/**
 * Slack's Socket Mode endpoint on loopback: `apps.connections.open` on the fake Web API hands out single-use
 * `ws://` URLs to a WebSocket server that says `hello`, pings, delivers envelopes and checks the acks.
 */
export async function startFakeSocketMode(
  slack: SlackApiStub,
  options: { appToken?: string; pingIntervalMs?: number; ackWaitMs?: number } = {},
): Promise<FakeSocketMode> {
  const appToken = options.appToken ?? APP_TOKEN;
  const ackWaitMs = options.ackWaitMs ?? 10_000;
  const tickets = new Set<string>();
  const connections: ConnectionState[] = [];
  const waiters = new Map<string, Waiter[]>();
  const problems: string[] = [];
  let opens = 0;
  let lateAcks = 0;

  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('WebSocket only');
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const ticket = url.searchParams.get('ticket');
    // Tickets are single-use, as Slack's are: a reconnect must call apps.connections.open again.
    if (url.pathname !== '/link/' || !ticket || !tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, socket as Socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  slack.extend('apps.connections.open', (_args, auth) => {
    if (!auth) return { ok: false, error: 'not_authed' };
    if (!auth.startsWith('xapp-')) return { ok: false, error: 'not_allowed_token_type' };
    if (auth !== appToken) return { ok: false, error: 'invalid_auth' };
    if (!fake.accepting) return { ok: false, error: 'internal_error' };
    const ticket = randomUUID();
    tickets.add(ticket);
    opens++;
    return { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=A0MESHOPS` };
  });

  function onFrame(conn: ConnectionState, data: string): void {
    let frame: { envelope_id?: unknown; payload?: unknown };
    try {
      frame = JSON.parse(data) as typeof frame;
    } catch {
      problems.push(`connection ${conn.id}: a frame that is not JSON: ${data.slice(0, 80)}`);
      return;
    }
    if (typeof frame.envelope_id !== 'string') {
      problems.push(`connection ${conn.id}: a frame without envelope_id: ${data.slice(0, 80)}`);
      return;
    }
    const pending = waiters.get(frame.envelope_id);
    const waiter = pending?.shift();
    if (!waiter) {
      problems.push(`connection ${conn.id}: ack for ${frame.envelope_id}, which has no outstanding delivery`);
      return;
    }
    if (waiter.connection !== conn.id)
      problems.push(`ack for ${frame.envelope_id} came on connection ${conn.id}, not ${waiter.connection}`);
    if (performance.now() - waiter.sent > SLACK_ACK_LIMIT_MS) lateAcks++;
    const payload = frame.payload;
    waiter.resolve(
      typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {},
    );
  }

  function accept(ws: WebSocket, socket: Socket): void {
    const conn: ConnectionState = {
      id: connections.length + 1,
      ws,
      socket,
      helloSent: false,
      pingsFromApp: 0,
      closed: false,
      deaf: false,
      silent: false,
      pinger: setInterval(() => {
        if (!conn.silent && !conn.closed) ws.ping();
      }, options.pingIntervalMs ?? 1000),
      get open() {
        return conn.helloSent && !conn.closed;
      },
      silence() {
        conn.silent = true;
        socket.pause();
      },
      deafen() {
        conn.deaf = true;
      },
      disconnect(reason = 'refresh_requested') {
        ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-socket-mode' } }));
      },
      drop() {
        socket.destroy();
      },
    };
    connections.push(conn);
    ws.on('ping', () => {
      conn.pingsFromApp++;
    });
    ws.on('message', (data, isBinary) => {
      if (conn.silent) return;
      if (isBinary) problems.push(`connection ${conn.id}: a binary frame`);
      else onFrame(conn, data.toString());
    });
    ws.on('close', () => {
      conn.closed = true;
      clearInterval(conn.pinger);
    });
    ws.on('error', () => {});
    if (!fake.hello) return;
    const live = connections.filter((c) => c.open).length + 1;
    ws.send(
      JSON.stringify({ ...HELLO, num_connections: live, connection_info: { app_id: 'A0MESHOPS' } }),
      () => {
        conn.helloSent = true;
      },
    );
  }

  const live = () =>
    [...connections].reverse().find((c) => c.open && !c.deaf && !c.silent && c.ws.readyState === c.ws.OPEN);

  function deliver(envelope: Envelope, to?: FakeConnection): Promise<Ack> {
    const conn = (to as ConnectionState | undefined) ?? live();
    if (!conn) return Promise.reject(new Error('no live Socket Mode connection to deliver to'));
    return new Promise<Ack>((resolve, reject) => {
      const sent = performance.now();
      const timer = setTimeout(() => {
        const list = waiters.get(envelope.envelope_id) ?? [];
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
        reject(new Error(`envelope ${envelope.envelope_id} was not acknowledged within ${ackWaitMs} ms`));
      }, ackWaitMs);
      const waiter: Waiter = {
        connection: conn.id,
        sent,
        resolve: (payload) => {
          clearTimeout(timer);
          resolve({
            envelopeId: envelope.envelope_id,
            payload,
            connection: conn.id,
            ms: performance.now() - sent,
          });
        },
      };
      waiters.set(envelope.envelope_id, [...(waiters.get(envelope.envelope_id) ?? []), waiter]);
      conn.ws.send(JSON.stringify(envelope));
    });
  }

  let responseSeq = 0;
  const fake: FakeSocketMode = {
    connections,
    get opens() {
      return opens;
    },
    accepting: true,
    hello: true,
    problems,
    get lateAcks() {
      return lateAcks;
    },
    live,
    waitForConnection: (n, timeoutMs = 15_000) =>
      waitFor(
        `Socket Mode connection #${n}`,
        () => connections[n - 1]?.open && connections[n - 1],
        timeoutMs,
      ),
    deliver,
    async command(text, opts = {}) {
      // The same fields Slack posts in HTTP mode, as a JSON object (docs: "Slash commands" in using-socket-mode).
      const form = slashCommandBody({
        command: '/mesh',
        text,
        userId: opts.userId ?? 'U0ALICE',
        userName: opts.userName ?? 'alice',
        channelId: opts.channelId ?? 'C0MESHOPS',
        channelName: opts.channelName ?? 'mesh-ops',
        responseUrl: opts.responseUrl ?? slack.responseUrl(`socket-${++responseSeq}`),
        ...(opts.triggerId ? { triggerId: opts.triggerId } : {}),
      });
      const envelope: Envelope = {
        envelope_id: randomUUID(),
        type: 'slash_commands',
        payload: Object.fromEntries(new URLSearchParams(form)),
        accepts_response_payload: true,
      };
      return { ack: await deliver(envelope), envelope };
    },
    async click(opts) {
      const form = blockActionsBody({
        ...opts,
        responseUrl: opts.responseUrl ?? slack.responseUrl(`socket-${++responseSeq}`),
      });
      const envelope: Envelope = {
        envelope_id: randomUUID(),
        type: 'interactive',
        payload: JSON.parse(new URLSearchParams(form).get('payload') ?? '{}') as Record<string, unknown>,
        accepts_response_payload: false,
      };
      return { ack: await deliver(envelope), envelope };
    },
    async close() {
      for (const conn of connections) {
        clearInterval(conn.pinger);
        conn.socket.destroy();
      }
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
