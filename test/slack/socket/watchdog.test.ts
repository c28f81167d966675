import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backoffMs,
  type LinkView,
  silentFor,
  staleReason,
  WATCHDOG_DEFAULTS,
} from '../../../src/slack/socket/watchdog.ts';

const o = { ...WATCHDOG_DEFAULTS, connectTimeoutMs: 10_000, idleTimeoutMs: 60_000, closeGraceMs: 2000 };
const T0 = 1_800_000_000_000;

describe('Socket Mode watchdog: when a connection is stale', () => {
  it('gives a dial until connectTimeout for apps.connections.open, the upgrade and hello', () => {
    const dialling: LinkView = { phase: 'connecting', since: T0 };
    assert.equal(staleReason(dialling, T0 + 10_000, o), undefined);
    assert.equal(staleReason(dialling, T0 + 10_001, o), 'connect-timeout');
    // A successful open does not buy more time: hello must follow within the same bound.
    assert.equal(staleReason({ ...dialling, openedAt: T0 + 9000 }, T0 + 10_001, o), 'connect-timeout');
  });

  it('gives up a connected socket that has not been OPEN for longer than the close grace', () => {
    const link: LinkView = {
      phase: 'connected',
      since: T0,
      openedAt: T0 - 50,
      lastEnvelopeAt: T0 + 5000,
      lastHeardAt: T0 + 7500,
    };
    assert.equal(staleReason({ ...link, notOpenSince: T0 + 6000 }, T0 + 8000, o), undefined);
    assert.equal(staleReason({ ...link, notOpenSince: T0 + 6000 }, T0 + 8001, o), 'socket-closed');
    assert.equal(staleReason(link, T0 + 8001, o), undefined);
  });

  it('gives up a connected socket on which nothing (no ping, no pong) was heard for twice the ping timeout', () => {
    const p = { ...o, clientPingTimeoutMs: 5000 };
    const link: LinkView = { phase: 'connected', since: T0, openedAt: T0, lastHeardAt: T0 + 1000 };
    assert.equal(staleReason(link, T0 + 11_000, p), undefined);
    assert.equal(staleReason(link, T0 + 11_001, p), 'no-pong');
    assert.equal(silentFor(link, T0 + 11_001), 10_001);
    // A socket the client began closing after Slack fell silent is given up at once, without the close grace.
    assert.equal(staleReason({ ...link, notOpenSince: T0 + 6100 }, T0 + 6200, p), 'no-pong');
    assert.equal(staleReason({ ...link, notOpenSince: T0 + 5900 }, T0 + 5950, p), undefined);
    // Until a first frame was heard the frames may not be observable at all: the client's own monitor decides.
    assert.equal(silentFor({ phase: 'connected', since: T0 }, T0 + 10_001), undefined);
    assert.equal(staleReason({ phase: 'connected', since: T0, notOpenSince: T0 }, T0 + 1000, p), undefined);
    // A frame heard before hello does not make a fresh connection look silent.
    assert.equal(silentFor({ phase: 'connected', since: T0, lastHeardAt: T0 - 9000 }, T0 + 100), 100);
  });

  it('refreshes a connection with no envelope since its open or its last envelope for idleTimeout', () => {
    // Pings and pongs keep flowing on a connection Slack stopped routing envelopes to.
    const at = (now: number, link: LinkView) => staleReason({ ...link, lastHeardAt: now - 100 }, now, o);
    const fresh: LinkView = { phase: 'connected', since: T0 + 20, openedAt: T0 };
    assert.equal(at(T0 + 60_000, fresh), undefined);
    assert.equal(at(T0 + 60_001, fresh), 'idle');
    const busy: LinkView = { ...fresh, lastEnvelopeAt: T0 + 50_000 };
    assert.equal(at(T0 + 110_000, busy), undefined);
    assert.equal(at(T0 + 110_001, busy), 'idle');
    // Without a recorded open, the hello time counts.
    assert.equal(at(T0 + 60_001, { phase: 'connected', since: T0 }), 'idle');
  });

  it('reports a dead socket before an idle one, and never judges a closed link', () => {
    const both: LinkView = {
      phase: 'connected',
      since: T0,
      openedAt: T0,
      lastHeardAt: T0 + 119_000,
      notOpenSince: T0,
    };
    assert.equal(staleReason(both, T0 + 120_000, o), 'socket-closed');
    assert.equal(staleReason({ phase: 'closed', since: T0 }, T0 + 1e9, o), undefined);
  });
});

describe('Socket Mode watchdog: backoff between failed dials', () => {
  it('dials at once after a clean close, then doubles up to the cap', () => {
    const b = { backoffBaseMs: 1000, backoffMaxMs: 60_000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffMs(n, b)),
      [0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000],
    );
  });
});
