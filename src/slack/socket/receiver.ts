import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { App, Receiver } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { WebAPIPlatformError, WebAPIRateLimitedError } from '@slack/web-api';
import { boltLogger } from '../../observability/bolt-logger.ts';
import type { Logger } from '../../observability/logger.ts';
import { type EnvelopeDedupe, envelopeKeys } from './dedupe.ts';
import {
  backoffMs,
  type LinkView,
  type StaleReason,
  silentFor,
  staleReason,
  WATCHDOG_DEFAULTS,
  type WatchdogOptions,
} from './watchdog.ts';

/** Slack's limit for acknowledging an envelope. */
export const SLACK_ACK_LIMIT_MS = 3000;

/** apps.connections.open errors no retry fixes at startup: the app-level token is wrong, revoked or lacks scope. */
const FATAL_OPEN_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_allowed_token_type',
  'missing_scope',
  'user_removed_from_team',
  'team_disabled',
]);

export class SocketModeAuthError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(
      `Slack refused SLACK_APP_TOKEN for Socket Mode: ${code}. It must be an app-level token (xapp-…) with the connections:write scope, for an app with Socket Mode enabled.`,
    );
    this.name = 'SocketModeAuthError';
    this.code = code;
  }
}

export interface SocketModeOptions {
  appToken: string;
  apiUrl: string;
  log: Logger;
  dedupe: EnvelopeDedupe;
  watchdog?: Partial<WatchdogOptions>;
  /** An envelope no listener has acknowledged by then is acknowledged empty, inside Slack's 3 s. */
  ackDeadlineMs?: number;
  /** Called for each connection re-established, for metrics. */
  onReconnect?: (reason: 'disconnect' | 'stale') => void;
}

/** Counters for metrics and logs; `connected` is the live state /readyz reports. */
export interface SocketModeStats {
  connected: boolean;
  /** Connections that reached Slack's `hello`. */
  connects: number;
  /** Connections re-established after the first, by why the previous one was given up. */
  reconnects: { disconnect: number; stale: number };
  /** Stale connections the watchdog found, by kind (see watchdog.ts). */
  stale: Record<StaleReason, number>;
  /** Dials that failed: apps.connections.open refused, upgrade failed, closed or timed out before `hello`. */
  failedDials: number;
  /** Finished periods without a live connection after the first connect, and their total length. */
  downPeriods: number;
  downMs: number;
  envelopes: number;
  /** Redeliveries acknowledged and skipped. */
  duplicates: number;
  /** late: after Slack's 3 s; unhandled: no listener acknowledged, so the receiver did; failed: the send failed. */
  acks: { total: number; late: number; unhandled: number; failed: number };
}

/** A Bolt receiver over Socket Mode that keeps itself connected. */
export interface SocketMode extends Receiver {
  isConnected(): boolean;
  stats(): SocketModeStats;
}

/** What SocketModeClient hands to `slack_event` listeners (not exported by the package). */
interface SlackEventArgs {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  envelope_id: string;
  type: string;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
}

type DialReason = 'initial' | 'disconnect' | 'stale';

interface Link extends LinkView {
  id: number;
  client: SocketModeClient;
  reason: DialReason;
  /** The URL apps.connections.open handed out, and the undici WebSocket dialled to it (for ping/pong frames). */
  url?: string;
  socket?: object;
}

/** What undici publishes on its `undici:websocket:*` diagnostics channels. */
interface WebSocketMessage {
  websocket: { url: string };
}

const WS_OPEN = 1;

/**
 * One SocketModeClient per connection, with its auto-reconnect off: reconnecting is decided here, because the
 * client's own loop can stop for good on some apps.connections.open errors (slackapi/node-slack-sdk#1495) or end
 * the process with an unhandled rejection (#2656), and a stale connection is replaced without waiting for the
 * client's 30 s close handshake with a peer that is gone.
 */
export function createSocketMode(options: SocketModeOptions): SocketMode {
  const o: WatchdogOptions = { ...WATCHDOG_DEFAULTS, ...options.watchdog };
  const ackDeadlineMs = options.ackDeadlineMs ?? 2500;
  const log = options.log.child({ component: 'socket-mode' });
  const clientLogger = boltLogger(options.log);
  const links = new Set<Link>();
  const counters = {
    connects: 0,
    reconnects: { disconnect: 0, stale: 0 },
    stale: { 'connect-timeout': 0, 'socket-closed': 0, 'no-pong': 0, idle: 0 },
    failedDials: 0,
    downPeriods: 0,
    downMs: 0,
    envelopes: 0,
    duplicates: 0,
    acks: { total: 0, late: 0, unhandled: 0, failed: 0 },
  };
  let app: App | undefined;
  let current: Link | undefined;
  let seq = 0;
  let failures = 0;
  let stopped = true;
  let everConnected = false;
  let downSince: number | undefined = Date.now();
  let retryTimer: NodeJS.Timeout | undefined;
  let tickTimer: NodeJS.Timeout | undefined;
  let first: { resolve: () => void; reject: (err: Error) => void } | undefined;

  const socketOpen = (link: Link) => link.client.websocket?.readyState === WS_OPEN;
  const isConnected = () => [...links].some((l) => l.phase === 'connected' && socketOpen(l));

  function settleFirst(err?: Error): void {
    if (err) first?.reject(err);
    else first?.resolve();
    first = undefined;
  }

  function noteUpOrDown(): void {
    const up = isConnected();
    const now = Date.now();
    if (up && downSince !== undefined) {
      if (everConnected) {
        counters.downPeriods++;
        counters.downMs += now - downSince;
        log.info({ downMs: now - downSince }, 'Socket Mode is connected again');
      }
      everConnected = true;
      downSince = undefined;
    } else if (!up && downSince === undefined && !stopped) {
      downSince = now;
      log.warn('no live Socket Mode connection: /readyz reports unready until one is back');
    }
  }

  function schedule(reason: DialReason, waitMs: number): void {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!stopped && !current) dial(reason);
    }, waitMs);
  }

  function retire(link: Link): void {
    if (link.phase === 'closed') return;
    link.phase = 'closed';
    links.delete(link);
    if (link === current) current = undefined;
    void link.client.disconnect().catch(() => {});
  }

  function dial(reason: DialReason): void {
    const client = new SocketModeClient({
      appToken: options.appToken,
      logger: clientLogger,
      autoReconnectEnabled: false,
      clientPingTimeout: o.clientPingTimeoutMs,
      serverPingTimeout: o.serverPingTimeoutMs,
      clientOptions: {
        slackApiUrl: options.apiUrl,
        timeout: o.openTimeoutMs,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
      },
    });
    const link: Link = { id: ++seq, client, reason, phase: 'connecting', since: Date.now() };
    links.add(link);
    current = link;
    client.on('authenticated', (res: { url?: string }) => {
      link.openedAt = Date.now();
      if (res.url) link.url = new URL(res.url).href;
    });
    client.on('connected', () => onConnected(link));
    client.on('disconnected', () => onEnded(link));
    client.on('slack_event', (args: SlackEventArgs) => void dispatch(link, args));
    client.start().catch((err: unknown) => onEnded(link, err));
    log.debug({ link: link.id, reason }, 'dialling Slack');
  }

  function onConnected(link: Link): void {
    // A dial given up on (timed out, or replaced) may still complete; it must not linger as a second connection.
    if (link.phase === 'closed' || stopped) {
      void link.client.disconnect().catch(() => {});
      return;
    }
    link.phase = 'connected';
    link.since = Date.now();
    failures = 0;
    counters.connects++;
    if (link.reason !== 'initial' && everConnected) {
      counters.reconnects[link.reason]++;
      options.onReconnect?.(link.reason);
    }
    log.info({ link: link.id, reason: link.reason }, 'Socket Mode connected');
    for (const other of [...links]) if (other !== link) retire(other);
    noteUpOrDown();
    settleFirst();
  }

  function onEnded(link: Link, err?: unknown): void {
    if (link.phase === 'closed') return;
    const wasConnected = link.phase === 'connected';
    link.phase = 'closed';
    links.delete(link);
    noteUpOrDown();
    if (stopped || link !== current) return;
    current = undefined;
    if (wasConnected) {
      // The client closes a socket on which Slack fell silent: that is a stale connection, not a refresh.
      if ((silentFor(link, Date.now()) ?? 0) > o.clientPingTimeoutMs) {
        counters.stale['no-pong']++;
        log.warn({ link: link.id, reason: 'no-pong' }, 'Socket Mode connection is stale; replacing it');
        schedule('stale', 0);
      } else {
        log.warn({ link: link.id }, 'Socket Mode connection closed; reconnecting');
        schedule('disconnect', 0);
      }
      return;
    }
    counters.failedDials++;
    failures++;
    const code = err instanceof WebAPIPlatformError ? String(err.data.error) : undefined;
    if (code && FATAL_OPEN_ERRORS.has(code)) {
      const problem = new SocketModeAuthError(code);
      if (first) {
        void receiver.stop();
        settleFirst(problem);
        return;
      }
      log.error({ code, waitMs: o.backoffMaxMs }, `${problem.message} Retrying.`);
      schedule(link.reason, o.backoffMaxMs);
      return;
    }
    const waitMs = err instanceof WebAPIRateLimitedError ? err.retryAfter * 1000 : backoffMs(failures, o);
    log.warn({ link: link.id, err, attempt: failures, waitMs }, 'Socket Mode dial failed; retrying');
    schedule(link.reason, waitMs);
    // The app starts without a connection (unready) and keeps dialling, rather than refusing to start.
    settleFirst();
  }

  function tick(): void {
    const now = Date.now();
    for (const link of [...links]) {
      if (link.phase === 'connected')
        link.notOpenSince = socketOpen(link) ? undefined : (link.notOpenSince ?? now);
      const reason = staleReason(link, now, o);
      // An idle connection that is no longer current is already being replaced.
      if (!reason || (reason === 'idle' && link !== current)) continue;
      counters.stale[reason]++;
      log.warn(
        { link: link.id, reason, lastEnvelopeAt: link.lastEnvelopeAt, openedAt: link.openedAt },
        'Socket Mode connection is stale; replacing it',
      );
      if (reason === 'idle') {
        // Make before break: the idle connection is closed once the new one has said hello.
        dial('stale');
        continue;
      }
      const wasCurrent = link === current;
      retire(link);
      if (reason === 'connect-timeout') {
        counters.failedDials++;
        failures++;
        settleFirst();
      }
      if (wasCurrent) schedule('stale', backoffMs(failures, o));
    }
    noteUpOrDown();
  }

  // Slack's pings and pongs are seen on undici's diagnostics channels; SocketModeClient does not expose them.
  function onSocketOpen(message: unknown): void {
    const { websocket } = message as WebSocketMessage;
    for (const link of links) if (link.url === websocket.url) link.socket = websocket;
  }
  function onPingOrPong(message: unknown): void {
    const { websocket } = message as WebSocketMessage;
    for (const link of links) if (link.socket === websocket) link.lastHeardAt = Date.now();
  }
  const channels = [
    ['undici:websocket:open', onSocketOpen],
    ['undici:websocket:ping', onPingOrPong],
    ['undici:websocket:pong', onPingOrPong],
  ] as const;

  async function dispatch(link: Link, args: SlackEventArgs): Promise<void> {
    const received = Date.now();
    link.lastEnvelopeAt = received;
    counters.envelopes++;
    const elog = log.child({
      envelope: args.envelope_id,
      type: args.type,
      ...(args.retry_num ? { retry: args.retry_num } : {}),
    });
    let acked = false;
    const ack = async (response?: Record<string, unknown>) => {
      if (acked) return;
      acked = true;
      counters.acks.total++;
      const ms = Date.now() - received;
      if (ms > SLACK_ACK_LIMIT_MS) {
        counters.acks.late++;
        elog.warn({ ms }, "envelope acknowledged after Slack's 3 s limit");
      }
      try {
        await args.ack(response);
      } catch (err) {
        counters.acks.failed++;
        elog.warn({ err }, 'could not acknowledge the envelope: its connection is closing');
      }
    };
    const ackUnhandled = async (why: string) => {
      if (acked) return;
      counters.acks.unhandled++;
      elog.warn(why);
      await ack();
    };

    if (!(await options.dedupe.claim(envelopeKeys(args)))) {
      counters.duplicates++;
      elog.info('redelivered envelope acknowledged and skipped: it was handled already');
      await ack();
      return;
    }
    const deadline = setTimeout(
      () => void ackUnhandled('no listener acknowledged the envelope in time; acknowledged it empty'),
      Math.max(0, ackDeadlineMs - (Date.now() - received)),
    );
    try {
      if (!app) throw new Error('the Socket Mode receiver was started without a Bolt app');
      await app.processEvent({
        body: args.body,
        ack,
        ...(args.retry_num !== undefined ? { retryNum: args.retry_num } : {}),
        ...(args.retry_reason ? { retryReason: args.retry_reason } : {}),
      });
    } catch (err) {
      elog.error({ err }, 'handling a Socket Mode envelope failed');
    } finally {
      clearTimeout(deadline);
      await ackUnhandled('no listener acknowledged the envelope; acknowledged it empty');
    }
  }

  const receiver: SocketMode = {
    init(bolt: App) {
      app = bolt;
    },
    /** Resolves once the first dial connected or failed for a reason a retry may fix; rejects on a refused token. */
    async start() {
      stopped = false;
      for (const [name, listener] of channels) subscribe(name, listener);
      tickTimer = setInterval(tick, o.checkIntervalMs);
      const outcome = new Promise<void>((resolve, reject) => {
        first = { resolve, reject };
      });
      dial('initial');
      await outcome;
    },
    async stop() {
      stopped = true;
      for (const [name, listener] of channels) unsubscribe(name, listener);
      clearInterval(tickTimer);
      clearTimeout(retryTimer);
      const closing = [...links].map((l) => l.client.disconnect().catch(() => {}));
      for (const link of links) link.phase = 'closed';
      links.clear();
      current = undefined;
      // A dead peer never answers the close frame: shutdown does not wait out the client's 30 s handshake timer.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(closing),
        new Promise((resolve) => {
          timer = setTimeout(resolve, 2000);
        }),
      ]);
      clearTimeout(timer);
    },
    isConnected,
    stats: () => ({
      connected: isConnected(),
      ...counters,
      reconnects: { ...counters.reconnects },
      stale: { ...counters.stale },
      acks: { ...counters.acks },
    }),
  };
  return receiver;
}
