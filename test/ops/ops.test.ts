import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, unreachableKubeconfig } from '../helpers/harness.ts';
import { auditOf } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

describe('operations: rate limit, metrics, Slack failures', () => {
  let h: Harness;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-ops-'));
    unreachableKubeconfig(dir, 'icp');
    h = await startHarness({
      configDir: dir,
      label: 'ops',
      // Production lets a request through when the check takes over 300 ms (see the fail-open test); these
      // tests count refusals, so a loaded machine's slow event loop must not turn them into passes.
      start: { rateCheckTimeoutMs: 60_000 },
      configYaml: `
clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]
access:
  rateLimit: { commands: 3, per: 1m }
`,
    });
  });
  after(() => h.close());

  it('limits commands per user with a clear reply, and other users are not affected', async () => {
    // Each in a channel of its own: identical commands in one channel would share one run.
    for (let i = 0; i < 3; i++)
      assert.equal((await h.command('clusters', { user: 'U0BUSY', channel: `C0RATE${i}` })).body, '');
    const fourth = JSON.parse((await h.command('clusters', { user: 'U0BUSY', channel: 'C0RATE3' })).body) as {
      response_type: string;
      text: string;
    };
    assert.equal(fourth.response_type, 'ephemeral');
    assert.match(fourth.text, /You have sent 3 commands and clicks in the last 60 s.*Try again in \d+ s/);
    assert.equal((await h.command('clusters', { user: 'U0CALM', channel: 'C0RATE4' })).body, '');
    const rated = () => h.slack.messages.filter((m) => m.channel.startsWith('C0RATE') && !m.thread_ts);
    await waitFor('four verdicts', () => rated().filter((m) => /\*down\*/.test(m.text)).length === 4);
    assert.equal(rated().length, 4, 'the refused command posted nothing');
  });

  it('limits refused commands before the permission check, so a flood writes no audit entries', async () => {
    const { redis, audit } = auditOf(h.prefix);
    const refusals = async () =>
      (await audit.latest(1000)).filter((e) => e.action === 'refused' && e.who === 'U0FLOOD').length;
    try {
      const answers: string[] = [];
      for (let i = 0; i < 10; i++)
        answers.push(
          (await h.command('route apply reviews-v3', { user: 'U0FLOOD', channel: 'C0FLOOD' })).body,
        );
      assert.equal(answers.filter((a) => /may be requested only by operators/.test(a)).length, 3);
      assert.equal(answers.filter((a) => /You have sent 3 commands and clicks/.test(a)).length, 7);
      await waitFor('the three refusals in the audit', async () => (await refusals()) === 3);
    } finally {
      // A failed assertion must not leave a connection open: it would keep the test process alive.
      redis.disconnect();
    }
  });

  it('limits button clicks too: a click over the limit is answered and never queued', async () => {
    for (let i = 0; i < 3; i++)
      await h.click({
        user: 'U0CLICKY',
        channel: 'C0CLICK',
        messageTs: '1.000001',
        actionId: 'mesh.approve',
        value: `ap-${i}`,
      });
    const res = await h.click({
      user: 'U0CLICKY',
      channel: 'C0CLICK',
      messageTs: '1.000001',
      actionId: 'mesh.approve',
      value: 'ap-9',
    });
    const [answer] = await waitFor('the ephemeral answer', () => h.slack.responses.get(res.responseId));
    assert.match(String(answer!.text), /You have sent 3 commands and clicks.*this click was not recorded/);
    assert.match(h.logs.text(), /"user":"U0CLICKY".*"action":"mesh\.approve".*button click rate-limited/);
  });

  it('retries a Slack 5xx and still delivers the reply', async () => {
    h.slack.fault({ method: 'chat.postMessage', channel: 'C0FLAKY', status: 503, times: 2 });
    const res = await h.command('clusters', { channel: 'C0FLAKY', user: 'U0FLAKY' });
    assert.equal(res.status, 200);
    const final = await h.waitForVerdict('C0FLAKY', '/mesh clusters');
    assert.equal(h.thread('C0FLAKY', final.ts).length, 1);
  });

  it('exposes Prometheus metrics for commands, jobs, Slack errors, cluster errors and the queue', async () => {
    const text = await (await fetch(`${h.meshops.opsUrl}/metrics`)).text();
    assert.match(text, /meshops_commands_total\{subcommand="clusters",outcome="queued"\} [4-9]/);
    assert.match(text, /meshops_commands_total\{subcommand="clusters",outcome="rate_limited"\} 1/);
    assert.match(text, /meshops_job_duration_seconds_count\{job="clusters",outcome="completed"\} \d+/);
    assert.match(text, /meshops_slack_api_errors_total\{method="chat.postMessage",code="http_503"\} 2/);
    assert.match(text, /meshops_cluster_api_errors_total\{cluster="icp",kind="refused"\} \d+/);
    assert.match(text, /meshops_queue_jobs\{state="waiting"\} \d+/);
  });

  it('never writes the bot token or the signing secret to the logs', () => {
    const logs = h.logs.text();
    assert.ok(logs.length > 1000, 'the run logged something');
    assert.ok(!logs.includes('xoxb-test-0000000000-abcdefghijklmnop'));
    assert.ok(!logs.includes('test-signing-secret-0123456789abcdef'));
    assert.ok(!logs.includes('unreachable-token'), 'the kubeconfig token');
  });
});
