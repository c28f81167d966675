import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ACK_TIMEOUT_MS, sendClick, sendCommand } from '../../src/console/relay.ts';
import { slackSignature } from '../../src/console/sign.ts';
import { REFUSED_PORT } from '../helpers/harness.ts';

const SECRET = 'relay-test-secret-0123456789';
const command = {
  command: '/mesh',
  text: 'status',
  userId: 'U0ALICE',
  userName: 'alice',
  channelId: 'C0MESHOPS',
  channelName: 'mesh-ops',
  responseUrl: 'http://127.0.0.1:1/response/x',
};

describe('the console delivering to the app as Slack does', () => {
  let server: Server;
  let base: string;
  const bodies: { path: string; body: string; valid: boolean }[] = [];
  const answers: Record<string, (res: ServerResponse) => void> = {
    '/json': (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ response_type: 'ephemeral', text: 'hi' }));
    },
    '/text': (res) => res.end('plain words'),
    '/empty': (res) => res.end(),
    '/401': (res) => {
      res.writeHead(401);
      res.end('invalid signature');
    },
    '/hang': () => {},
  };

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        const ts = Number(req.headers['x-slack-request-timestamp']);
        const valid = req.headers['x-slack-signature'] === slackSignature(SECRET, ts, body);
        bodies.push({ path: req.url ?? '', body, valid });
        answers[req.url ?? '']?.(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('signs the exact form body it sends', async () => {
    await sendCommand(`${base}/empty`, SECRET, command);
    const sent = bodies.at(-1)!;
    assert.equal(sent.valid, true);
    assert.equal(new URLSearchParams(sent.body).get('text'), 'status');
    await sendClick(`${base}/empty`, SECRET, {
      userId: 'U0BOB',
      userName: 'bob',
      channelId: 'C0MESHOPS',
      messageTs: '1.000001',
      actionId: 'mesh.approve',
      value: 'ap-1',
      responseUrl: 'http://127.0.0.1:1/response/y',
      isEphemeral: true,
    });
    const click = JSON.parse(new URLSearchParams(bodies.at(-1)!.body).get('payload')!);
    assert.equal(bodies.at(-1)!.valid, true);
    assert.equal(click.container.is_ephemeral, true);
    assert.equal(click.message, undefined, 'Slack sends no message for an ephemeral one');
  });

  it('reads the acknowledgement: JSON, plain text, or nothing', async () => {
    assert.deepEqual(await sendCommand(`${base}/json`, SECRET, command), {
      ok: true,
      ack: { response_type: 'ephemeral', text: 'hi' },
    });
    assert.deepEqual(await sendCommand(`${base}/text`, SECRET, command), {
      ok: true,
      ack: { text: 'plain words' },
    });
    assert.deepEqual(await sendCommand(`${base}/empty`, SECRET, command), { ok: true, ack: undefined });
  });

  it('turns a refusal or a missing app into dispatch_failed, and silence into operation_timeout', async () => {
    assert.deepEqual(await sendCommand(`${base}/401`, SECRET, command), {
      ok: false,
      error: 'dispatch_failed',
      detail: 'HTTP 401 invalid signature',
    });
    const refused = await sendCommand(`http://127.0.0.1:${REFUSED_PORT}/`, SECRET, command);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.error, 'dispatch_failed');
    const silent = await sendCommand(`${base}/hang`, SECRET, command);
    assert.deepEqual(silent, {
      ok: false,
      error: 'operation_timeout',
      detail: `no answer within ${ACK_TIMEOUT_MS / 1000} s`,
    });
  });
});
