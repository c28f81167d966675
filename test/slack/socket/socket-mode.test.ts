import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { App } from '@slack/bolt';
import pino from 'pino';
import { REJECT_ACTION } from '../../../src/approvals/types.ts';
import { startSlackApi } from '../../../src/console/slack-api.ts';
import { defaultHandlers } from '../../../src/jobs/index.ts';
import type { Handlers } from '../../../src/jobs/types.ts';
import type { ActionJob } from '../../../src/queue/jobs.ts';
import type { StartOptions } from '../../../src/runtime.ts';
import { createSocketMode, SocketModeAuthError } from '../../../src/slack/socket/receiver.ts';
import type { WatchdogOptions } from '../../../src/slack/socket/watchdog.ts';
import { APP_TOKEN, type FakeSocketMode, startFakeSocketMode } from '../../helpers/fake-socket-mode.ts';
import { BOT_TOKEN, type Harness, startHarness, unreachableMesh } from '../../helpers/harness.ts';
import { waitFor } from '../../helpers/wait.ts';

const { dir, configYaml: CONFIG } = unreachableMesh(
  'socket',
  `
access:
  operators: [U0ALICE]
checks:
  clusterTimeout: 2s
`,
);

/** Watchdog timings short enough for tests; production defaults are in src/slack/socket/watchdog.ts. */
const FAST: Partial<WatchdogOptions> = {
  checkIntervalMs: 50,
  clientPingTimeoutMs: 300,
  serverPingTimeoutMs: 2000,
  closeGraceMs: 200,
  connectTimeoutMs: 3000,
  backoffBaseMs: 50,
  backoffMaxMs: 400,
};

interface SocketHarness {
  h: Harness;
  socket: FakeSocketMode;
  close(): Promise<void>;
}

async function startSocketHarness(
  label: string,
  socketMode: StartOptions['socketMode'],
  handlers?: Handlers,
): Promise<SocketHarness> {
  const slack = await startSlackApi();
  const socket = await startFakeSocketMode(slack, { pingIntervalMs: 100 });
  const h = await startHarness({
    configYaml: CONFIG,
    configDir: dir,
    label,
    slack,
    // The signing secret stays set: an app token selects Socket Mode regardless.
    env: { SLACK_APP_TOKEN: APP_TOKEN },
    start: { socketMode },
    ...(handlers ? { handlers } : {}),
  });
  return {
    h,
    socket,
    async close() {
      await h.close();
      await socket.close();
    },
  };
}

const readyz = async (h: Harness) => {
  const res = await fetch(`${h.meshops.opsUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('/mesh and buttons through Socket Mode', () => {
  let s: SocketHarness;
  const clicks: ActionJob[] = [];
  before(async () => {
    const handlers = defaultHandlers();
    handlers.actions[REJECT_ACTION] = async (job) => {
      clicks.push(job);
    };
    s = await startSocketHarness('socket', { watchdog: { ...FAST, idleTimeoutMs: 3_600_000 } }, handlers);
  });
  after(() => s.close());

  it('is connected once started, serves the ops routes and no inbound Slack endpoint', async () => {
    assert.equal(s.socket.opens, 1, 'one apps.connections.open, made with the app-level token');
    assert.equal(s.socket.connections.length, 1);
    assert.deepEqual(await readyz(s.h), {
      status: 200,
      body: { ready: true, redis: 'ok', socketMode: 'ok' },
    });
    assert.equal((await fetch(`${s.h.meshops.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${s.h.meshops.url}/slack/events`, { method: 'POST' })).status, 404);
    for (const path of ['/readyz', '/metrics'])
      assert.equal((await fetch(`${s.h.meshops.url}${path}`)).status, 404, `${path} only on OPS_PORT`);
    assert.match(s.h.logs.text(), /Slack app in Socket Mode/);
    assert.ok(!s.h.logs.text().includes(APP_TOKEN), 'the app-level token never reaches the log');
  });

  it('acks a command and answers it in the thread via the queue and a worker', async () => {
    const { ack } = await s.socket.command('clusters', { channelId: 'C0SOCKET' });
    assert.deepEqual(ack.payload, {}, 'an empty ack: the answer comes as a message');
    const final = await s.h.waitForVerdict('C0SOCKET', '/mesh clusters');
    assert.match(final.text, /`\/mesh clusters` requested by <@U0ALICE>/);
    assert.match(final.text, /\*down\*: 2 of 2 clusters do not answer/);
    const replies = s.h.thread('C0SOCKET', final.ts);
    assert.equal(replies.length, 1);
    assert.match(
      JSON.stringify(replies[0]!.blocks),
      /\*icp\* \(primary\) — not reachable: connection refused/,
    );
  });

  it('answers help and refusals in the ack itself, posting nothing', async () => {
    const help = await s.socket.command('help', { channelId: 'C0SOCKHELP' });
    assert.equal(help.ack.payload.response_type, 'ephemeral');
    assert.match(String(help.ack.payload.text), /\/mesh status/);
    const refused = await s.socket.command('repair drift', { channelId: 'C0SOCKHELP', userId: 'U0CAROL' });
    assert.match(String(refused.ack.payload.text), /only by operators/);
    assert.equal(s.h.parents('C0SOCKHELP').length, 0);
  });

  it('queues a button click for the worker', async () => {
    const { ack } = await s.socket.click({
      userId: 'U0BOB',
      userName: 'bob',
      channelId: 'C0SOCKET',
      messageTs: '1700000000.000100',
      actionId: REJECT_ACTION,
      value: 'approval-42',
    });
    assert.deepEqual(ack.payload, {});
    const click = await waitFor('the click to reach the worker', () => clicks[0]);
    assert.equal(click.value, 'approval-42');
    assert.equal(click.user, 'U0BOB');
    assert.equal(click.channel, 'C0SOCKET');
    assert.equal(click.messageTs, '1700000000.000100');
  });

  it('refuses an internal action id over Socket Mode too: acked, never queued', async () => {
    await s.socket.click({
      userId: 'U0BOB',
      userName: 'bob',
      channelId: 'C0SOCKET',
      messageTs: '1700000000.000100',
      actionId: 'mesh.approval-expire',
      value: 'approval-43',
    });
    await waitFor('the refusal in the log', () =>
      /refused an action meshops never posts/.test(s.h.logs.text()),
    );
    assert.ok(!clicks.some((c) => c.value === 'approval-43'));
  });

  it('runs a redelivered command once: same envelope, and a retry in a new envelope', async () => {
    const first = await s.socket.command('clusters', { channelId: 'C0REDELIVER' });
    const again = await s.socket.deliver({ ...first.envelope, retry_attempt: 1, retry_reason: 'timeout' });
    const retry = await s.socket.deliver({
      ...first.envelope,
      envelope_id: randomUUID(),
      retry_attempt: 2,
      retry_reason: 'timeout',
    });
    assert.deepEqual([again.payload, retry.payload], [{}, {}], 'redeliveries are acknowledged too');
    await s.h.waitForVerdict('C0REDELIVER', '/mesh clusters');
    assert.equal(s.h.parents('C0REDELIVER').length, 1, 'one parent message: the command ran once');
    assert.equal(s.h.meshops.socketMode?.stats().duplicates, 2);
    assert.match(s.h.logs.text(), /redelivered envelope acknowledged and skipped/);
  });

  it('acknowledges an envelope no listener takes, so Slack does not retry it', async () => {
    const { ack } = await s.socket.click({
      userId: 'U0BOB',
      userName: 'bob',
      channelId: 'C0SOCKET',
      messageTs: '1700000000.000100',
      actionId: 'someone.else',
      value: 'x',
    });
    assert.deepEqual(ack.payload, {});
    assert.equal(s.h.meshops.socketMode?.stats().acks.unhandled, 1);
  });

  it('reconnects at once when Slack asks for a refresh, and the next command works', async () => {
    s.socket.live()!.disconnect('refresh_requested');
    await s.socket.waitForConnection(2);
    const { ack } = await s.socket.command('clusters', { channelId: 'C0REFRESH' });
    assert.equal(ack.connection, 2);
    await s.h.waitForVerdict('C0REFRESH', '/mesh clusters');
    const stats = s.h.meshops.socketMode!.stats();
    assert.equal(stats.reconnects.disconnect, 1);
    assert.equal(stats.reconnects.stale, 0);
    assert.deepEqual(s.socket.problems, [], 'every ack matched an outstanding envelope');
  });
});

describe('the Socket Mode watchdog', () => {
  it('replaces a connection whose peer went silent (no pongs), and the next command works', async () => {
    const s = await startSocketHarness('socket-silent', { watchdog: { ...FAST, idleTimeoutMs: 3_600_000 } });
    try {
      const first = s.socket.live()!;
      // A connection that worked (the app pinged and heard pongs), then the peer vanished.
      await waitFor('the app to ping and hear pongs', () => first.pingsFromApp >= 2);
      first.silence();
      await s.socket.waitForConnection(2, 10_000);
      const { ack } = await s.socket.command('clusters', { channelId: 'C0SILENT' });
      assert.equal(ack.connection, 2);
      await s.h.waitForVerdict('C0SILENT', '/mesh clusters');
      const stats = s.h.meshops.socketMode!.stats();
      assert.equal(stats.stale['no-pong'], 1);
      assert.equal(stats.reconnects.stale, 1);
      assert.equal(stats.reconnects.disconnect, 0);
      assert.equal(stats.downPeriods, 1);
      assert.match(s.h.logs.text(), /Socket Mode connection is stale; replacing it/);
      assert.match(s.h.logs.text(), /Socket Mode is connected again/);
    } finally {
      await s.close();
    }
  });

  it('refreshes a connection Slack stopped delivering on (pongs still flow), and the next command works', async () => {
    const s = await startSocketHarness('socket-deaf', { watchdog: { ...FAST, idleTimeoutMs: 1500 } });
    try {
      const deaf = s.socket.live()!;
      deaf.deafen();
      const fresh = await s.socket.waitForConnection(2, 10_000);
      const { ack } = await s.socket.command('clusters', { channelId: 'C0DEAF' });
      assert.equal(ack.connection, fresh.id);
      await s.h.waitForVerdict('C0DEAF', '/mesh clusters');
      await waitFor('the app to close the replaced connection', () => !deaf.open);
      const stats = s.h.meshops.socketMode!.stats();
      assert.ok(stats.stale.idle >= 1);
      assert.ok(stats.reconnects.stale >= 1);
      assert.equal(stats.downPeriods, 0, 'the new connection was made before the old one was closed');
    } finally {
      await s.close();
    }
  });

  it('turns /readyz unready while no connection can be made, and recovers by itself', async () => {
    const s = await startSocketHarness('socket-down', { watchdog: { ...FAST, idleTimeoutMs: 3_600_000 } });
    try {
      s.socket.accepting = false;
      s.socket.live()!.drop();
      const down = await waitFor('/readyz to turn unready', async () => {
        const r = await readyz(s.h);
        return r.status === 503 && r;
      });
      assert.deepEqual(down.body, { ready: false, redis: 'ok', socketMode: 'unavailable' });
      await waitFor('a dial to fail', () => (s.h.meshops.socketMode?.stats().failedDials ?? 0) >= 2);
      assert.match(s.h.logs.text(), /no live Socket Mode connection/);

      // apps.connections.open answering HTTP 503 is a dead end for the client's own retry loop
      // (slackapi/node-slack-sdk#1495); here it is one more failed dial.
      s.h.slack.fault({ method: 'apps.connections.open', status: 503, times: 1 });
      s.socket.accepting = true;
      await waitFor('/readyz to recover', async () => (await readyz(s.h)).status === 200);
      const { ack } = await s.socket.command('clusters', { channelId: 'C0RECOVER' });
      assert.equal(ack.connection, 2);
      await s.h.waitForVerdict('C0RECOVER', '/mesh clusters');
      const stats = s.h.meshops.socketMode!.stats();
      assert.equal(stats.reconnects.disconnect, 1);
      assert.equal(stats.downPeriods, 1);
      assert.ok(
        s.h.logs.lines.some((l) => l.includes('Socket Mode dial failed; retrying') && l.includes('503')),
        'the HTTP 503 was logged as a failed dial and retried',
      );
    } finally {
      await s.close();
    }
  });
});

describe('Socket Mode start-up', () => {
  it('starts unready when the first dial hangs before hello, and connects on a later dial', async () => {
    const slack = await startSlackApi();
    const socket = await startFakeSocketMode(slack, { pingIntervalMs: 100 });
    socket.hello = false;
    const h = await startHarness({
      configYaml: CONFIG,
      configDir: dir,
      label: 'socket-hang',
      slack,
      env: { SLACK_APP_TOKEN: APP_TOKEN },
      start: { socketMode: { watchdog: { ...FAST, connectTimeoutMs: 500, idleTimeoutMs: 3_600_000 } } },
    });
    try {
      assert.equal((await readyz(h)).status, 503, 'started, but not ready without a connection');
      assert.ok(h.meshops.socketMode!.stats().stale['connect-timeout'] >= 1);
      socket.hello = true;
      await waitFor('/readyz to turn ready', async () => (await readyz(h)).status === 200);
      const { ack } = await socket.command('clusters', { channelId: 'C0HANG' });
      await h.waitForVerdict('C0HANG', '/mesh clusters');
      assert.equal(socket.connections[ack.connection - 1]?.open, true);
      assert.ok(socket.connections.length >= 2, 'the hung dial was given up and another made');
    } finally {
      await h.close();
      await socket.close();
    }
  });

  it('refuses to start with a token Slack rejects, naming the problem', async () => {
    const slack = await startSlackApi();
    const socket = await startFakeSocketMode(slack);
    const log = pino({ level: 'silent' });
    const receiver = createSocketMode({
      appToken: 'xapp-1-A0MESHOPS-1234567890-revoked',
      apiUrl: slack.url,
      log,
      dedupe: { claim: async () => true },
      watchdog: FAST,
    });
    try {
      new App({ receiver, authorize: async () => ({ botToken: BOT_TOKEN }) });
      await assert.rejects(receiver.start(), (err: unknown) => {
        assert.ok(err instanceof SocketModeAuthError);
        assert.equal(err.code, 'invalid_auth');
        assert.match(err.message, /SLACK_APP_TOKEN.*connections:write/);
        return true;
      });
      assert.equal(receiver.isConnected(), false);
      assert.equal(socket.connections.length, 0);
    } finally {
      await receiver.stop();
      await socket.close();
      await slack.close();
    }
  });
});
