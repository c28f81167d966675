import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { verifySlackRequest } from '@slack/bolt';
import { signedHeaders, slackSignature, slashCommandBody } from '../../src/console/sign.ts';
import { type Harness, SIGNING_SECRET, startHarness, unreachableKubeconfig } from '../helpers/harness.ts';

const vector = JSON.parse(
  readFileSync(new URL('../fixtures/slack/signing_test_vector.json', import.meta.url), 'utf8'),
) as {
  secret: string;
  timestamp: number;
  body: string;
  signature: string;
};

describe('Slack request signing', () => {
  it("reproduces Slack's published signature, which Bolt's verifier accepts at its time", () => {
    assert.equal(slackSignature(vector.secret, vector.timestamp, vector.body), vector.signature);
    assert.doesNotThrow(() =>
      verifySlackRequest({
        signingSecret: vector.secret,
        body: vector.body,
        headers: { 'x-slack-signature': vector.signature, 'x-slack-request-timestamp': vector.timestamp },
        nowMilliseconds: vector.timestamp * 1000 + 10_000,
      }),
    );
  });

  describe('over HTTP into the receiver', () => {
    let h: Harness;
    const dir = mkdtempSync(join(tmpdir(), 'meshops-sig-'));
    unreachableKubeconfig(dir, 'icp');
    before(async () => {
      h = await startHarness({
        configDir: dir,
        label: 'sig',
        configYaml: 'clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]',
      });
    });
    after(() => h.close());

    const body = () =>
      slashCommandBody({
        command: '/mesh',
        text: 'clusters',
        userId: 'U0ALICE',
        userName: 'alice',
        channelId: 'C0SIG',
        channelName: 'sig',
        responseUrl: h.slack.responseUrl('sig'),
      });
    const post = (b: string, headers: Record<string, string>) =>
      fetch(`${h.meshops.url}/slack/events`, { method: 'POST', headers, body: b });

    it('rejects a wrong signature with 401 and queues nothing', async () => {
      const b = body();
      const headers = signedHeaders('not-the-secret-at-all', b);
      const res = await post(b, headers);
      assert.equal(res.status, 401);
      const tampered = await post(b.replace('clusters', 'vpn'), signedHeaders(SIGNING_SECRET, b));
      assert.equal(tampered.status, 401);
    });

    it('rejects a stale timestamp with 401, even when correctly signed', async () => {
      const b = body();
      const res = await post(b, signedHeaders(SIGNING_SECRET, b, Math.floor(Date.now() / 1000) - 6 * 60));
      assert.equal(res.status, 401);
      const vectorRes = await post(vector.body, {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(vector.timestamp),
        'x-slack-signature': vector.signature,
      });
      assert.equal(vectorRes.status, 401, "Slack's 2018 example is stale today");
    });

    it('accepts a correctly signed request', async () => {
      const b = body();
      const res = await post(b, signedHeaders(SIGNING_SECRET, b));
      assert.equal(res.status, 200);
      await h.waitForVerdict('C0SIG', '/mesh clusters');
      assert.equal(h.parents('C0SIG').length, 1, 'only the signed request was queued');
    });
  });

  it('accepts the published vector over HTTP when the clock is at its timestamp', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-vec-'));
    unreachableKubeconfig(dir, 'icp');
    const h = await startHarness({
      configDir: dir,
      label: 'vec',
      role: 'app',
      configYaml: 'clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]',
    });
    mock.timers.enable({ apis: ['Date'], now: vector.timestamp * 1000 + 5_000 });
    try {
      // Same secret as the vector: re-sign nothing, send Slack's bytes as they are.
      const res = await fetch(`${h.meshops.url}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(vector.timestamp),
          'x-slack-signature': slackSignature(SIGNING_SECRET, vector.timestamp, vector.body),
        },
        body: vector.body,
      });
      // Signature and time pass; /webhook-collect is not our command, so Bolt answers 404 after its ack timer.
      assert.notEqual(res.status, 401);
    } finally {
      mock.timers.reset();
      await h.close();
    }
  });
});
