import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, registerSecret, scrub } from '../../src/observability/logger.ts';
import { LogSink } from '../helpers/harness.ts';

describe('logger redaction', () => {
  it('redacts secrets by path, by shape and by registered value, including inside error messages', () => {
    const sink = new LogSink();
    const log = createLogger('debug', sink);
    registerSecret('my-kube-token-abcdef');
    log.info(
      { token: 'xoxb-123-456-abc', headers: { authorization: 'Bearer zzz', 'x-slack-signature': 'v0=abc' } },
      'call',
    );
    log.error(
      { err: new Error('HTTP 401 Headers: {"authorization":"Bearer my-kube-token-abcdef"}') },
      'kube failed',
    );
    log.warn('token xoxb-999-888-leak in a message');
    log.info({ kubeconfig: 'apiVersion: v1\nusers: [{user: {token: my-kube-token-abcdef}}]' }, 'config');
    const text = sink.text();
    for (const secret of [
      'xoxb-123-456-abc',
      'zzz',
      'v0=abc',
      'my-kube-token-abcdef',
      'xoxb-999-888-leak',
      'apiVersion: v1',
    ]) {
      assert.ok(!text.includes(secret), `"${secret}" leaked: ${text}`);
    }
    assert.match(text, /\[Redacted\]/);
  });

  it('scrubs tokens from free text but leaves ordinary words', () => {
    assert.equal(scrub('posting with xapp-1-A0-123-abc failed'), 'posting with [Redacted] failed');
    assert.equal(scrub('pilot runs at 10.1.0.57'), 'pilot runs at 10.1.0.57');
  });
});
