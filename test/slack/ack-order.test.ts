import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { RateDecision } from '../../src/access/rate-limit.ts';
import { blockActionsBody, signedHeaders } from '../../src/console/sign.ts';
import type { Admitter } from '../../src/queue/admit.ts';
import type { ActionJob } from '../../src/queue/jobs.ts';
import { createSlackApp, type SlackApp } from '../../src/slack/app.ts';
import { BOT_TOKEN, SIGNING_SECRET, sendCommand } from '../helpers/harness.ts';

/** What happens before Slack gets its ack, with Redis replaced by stubs the test controls. */
describe('before the ack', () => {
  let app: SlackApp;
  let url: string;
  const admitted: string[] = [];
  const recorded: { click: ActionJob; at: number }[] = [];
  /** How long a click's durable write takes here. */
  const RECORD_MS = 300;
  before(async () => {
    const admitter: Admitter = {
      admit: async (request) => {
        admitted.push(request.user);
        return { outcome: 'queued', jobId: `cmd-${admitted.length}` };
      },
      record: async (click) => {
        await new Promise((r) => setTimeout(r, RECORD_MS));
        recorded.push({ click, at: performance.now() });
      },
    };
    app = createSlackApp({
      signingSecret: SIGNING_SECRET,
      botToken: BOT_TOKEN,
      apiUrl: 'http://127.0.0.1:2/api/',
      log: pino({ level: 'silent' }),
      admitter,
      permissions: { isOperator: async () => true, isApprover: async () => true, isViewer: async () => true },
      parseContext: { clusters: [{ name: 'icp', role: 'primary' }], presets: [], schedules: [] },
      routes: [],
      // Redis that never answers the limiter.
      rateLimit: () => new Promise<RateDecision>(() => {}),
    });
    const server = await app.start(0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => app.stop());

  it('lets a command through after its bound when Redis does not answer the rate check', async () => {
    const res = await sendCommand(url, {
      text: 'clusters',
      user: 'U0SLOW',
      channel: 'C0SLOW',
      responseUrl: 'http://127.0.0.1:2/r',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, '', 'acked as queued');
    assert.deepEqual(admitted, ['U0SLOW']);
  });

  it('acks a button click only once the click is recorded', async () => {
    const body = blockActionsBody({
      userId: 'U0CLICK',
      userName: 'u0click',
      channelId: 'C0CLICK',
      messageTs: '1.000001',
      actionId: 'mesh.approve',
      value: 'ap-1',
      responseUrl: 'http://127.0.0.1:2/r',
    });
    const res = await fetch(`${url}/slack/events`, {
      method: 'POST',
      headers: signedHeaders(SIGNING_SECRET, body),
      body,
    });
    const ackedAt = performance.now();
    assert.equal(res.status, 200);
    assert.equal(recorded.length, 1, 'the click was recorded before Slack had its ack');
    assert.ok(recorded[0]!.at <= ackedAt);
    assert.deepEqual(
      { action: recorded[0]!.click.action, value: recorded[0]!.click.value, user: recorded[0]!.click.user },
      { action: 'mesh.approve', value: 'ap-1', user: 'U0CLICK' },
    );
  });
});
