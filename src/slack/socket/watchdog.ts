/**
 * When a Socket Mode connection has gone stale. Pure: the supervisor (receiver.ts) feeds it what it observed
 * about each connection and acts on the answer.
 *
 * Ways a connection dies without saying so (slackapi/bolt-js#1906, slackapi/node-slack-sdk#1652, #1495, #2656):
 * - the dial never finishes: apps.connections.open or the WebSocket upgrade hangs, or Slack's `hello` never comes;
 * - the transport is dead: no ping from Slack and no pong to our pings. SocketModeClient's own monitor closes the
 *   socket after `clientPingTimeoutMs`; the watchdog is the backstop at twice that;
 * - the socket is stuck "closing": a dead peer never completes the close handshake, which can hold the client
 *   for 30 s; it is given up after `closeGraceMs`;
 * - the socket is alive but Slack has stopped routing envelopes to it. Nothing on the wire tells this apart from
 *   a quiet channel, so a connection that delivered nothing for `idleTimeoutMs` is refreshed (a new one is
 *   opened first, the old one closed once the new one says hello), as Slack itself does every few hours.
 */
export interface WatchdogOptions {
  /** How often the watchdog looks at the connections. */
  checkIntervalMs: number;
  /** apps.connections.open, the WebSocket upgrade and Slack's `hello` together must take no longer. */
  connectTimeoutMs: number;
  /** A connection with no envelope since it was opened or since its last envelope is refreshed after this. */
  idleTimeoutMs: number;
  /** A connected socket found not open for longer than this is given up (a normal close takes milliseconds). */
  closeGraceMs: number;
  /** SocketModeClient's `clientPingTimeout`: pings go out every third of it; a pong must come within it. */
  clientPingTimeoutMs: number;
  /** SocketModeClient's `serverPingTimeout`: once Slack has pinged, its next ping must come within it. */
  serverPingTimeoutMs: number;
  /** Wait before the n-th consecutive failed attempt: base · 2^(n−1), capped at max. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Timeout of the apps.connections.open call. */
  openTimeoutMs: number;
}

export const WATCHDOG_DEFAULTS: Readonly<WatchdogOptions> = {
  checkIntervalMs: 1000,
  connectTimeoutMs: 30_000,
  idleTimeoutMs: 30 * 60_000,
  closeGraceMs: 2000,
  clientPingTimeoutMs: 5000,
  serverPingTimeoutMs: 30_000,
  backoffBaseMs: 1000,
  // apps.connections.open is a Tier 1 method (about one call a minute sustained).
  backoffMaxMs: 60_000,
  openTimeoutMs: 10_000,
};

export type LinkPhase = 'connecting' | 'connected' | 'closed';

/** What the supervisor knows about one connection. Times are epoch milliseconds. */
export interface LinkView {
  phase: LinkPhase;
  /** When the connection entered its phase (dial started, or `hello` received). */
  since: number;
  /** The successful apps.connections.open this connection was dialled with. */
  openedAt?: number;
  lastEnvelopeAt?: number;
  /** Last ping or pong frame from Slack on this socket. */
  lastHeardAt?: number;
  /** Since when the WebSocket has not been OPEN although the connection counts as connected. */
  notOpenSince?: number;
}

export type StaleReason = 'connect-timeout' | 'socket-closed' | 'no-pong' | 'idle';

export function staleReason(link: LinkView, now: number, o: WatchdogOptions): StaleReason | undefined {
  if (link.phase === 'connecting')
    return now - link.since > o.connectTimeoutMs ? 'connect-timeout' : undefined;
  if (link.phase !== 'connected') return undefined;
  const silent = silentFor(link, now) ?? 0;
  if (link.notOpenSince !== undefined) {
    // The client is closing a socket on which Slack fell silent: its pong timeout fired; no need to wait.
    if (silent > o.clientPingTimeoutMs) return 'no-pong';
    if (now - link.notOpenSince > o.closeGraceMs) return 'socket-closed';
  }
  if (silent > 2 * o.clientPingTimeoutMs) return 'no-pong';
  const lastSignOfLife = Math.max(link.openedAt ?? link.since, link.lastEnvelopeAt ?? 0);
  return now - lastSignOfLife > o.idleTimeoutMs ? 'idle' : undefined;
}

/**
 * How long nothing (no ping, no pong) has been heard from Slack on a connected socket; undefined until a first
 * frame was heard, so a socket whose frames cannot be observed is left to the client's own monitor.
 */
export function silentFor(link: LinkView, now: number): number | undefined {
  return link.lastHeardAt === undefined ? undefined : now - Math.max(link.since, link.lastHeardAt);
}

/** How long to wait before the next dial after `failures` consecutive failed ones (0 → at once). */
export function backoffMs(
  failures: number,
  o: Pick<WatchdogOptions, 'backoffBaseMs' | 'backoffMaxMs'>,
): number {
  if (failures <= 0) return 0;
  return Math.min(o.backoffMaxMs, o.backoffBaseMs * 2 ** (failures - 1));
}
