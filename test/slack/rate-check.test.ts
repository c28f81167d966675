import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { RateDecision } from '../../src/access/rate-limit.ts';
import type { Admitter } from '../../src/queue/admit.ts';
import type { Producer } from '../../src/queue/producer.ts';
import { createSlackApp, type SlackApp } from '../../src/slack/app.ts';
import { BOT_TOKEN, SIGNING_SECRET, sendCommand } from '../helpers/harness.ts';

describe('the rate check before the ack', () => {
  let app: SlackApp;
  let url: string;
  const admitted: string[] = [];
  before(async () => {
    const admitter: Admitter = {
      admit: async (request) => {
        admitted.push(request.user);
        return { outcome: 'queued', jobId: `cmd-${admitted.length}` };
      },
    };
    app = createSlackApp({
      signingSecret: SIGNING_SECRET,
      botToken: BOT_TOKEN,
      apiUrl: 'http://127.0.0.1:2/api/',
      log: pino({ level: 'silent' }),
      producer: {} as Producer,
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

  it('lets the command through after its bound when Redis does not answer, so the ack is not spent on it', async () => {
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
});
