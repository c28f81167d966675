import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultHandlers } from '../../src/jobs/index.ts';
import type { Handlers } from '../../src/jobs/types.ts';
import { type Harness, startHarness, unreachableMesh } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';

const { dir, configYaml: CONFIG } = unreachableMesh(
  'spine',
  `
access:
  operators: [U0ALICE]
  approvers: [U0BOB]
checks:
  clusterTimeout: 2s
jobs:
  timeout: 1s
`,
);

/** Handlers a test swaps in to make a command throw or hang; everything else is the real worker path. */
function withStatus(status: Handlers['commands']['status']): Handlers {
  const h = defaultHandlers();
  return { ...h, commands: { ...h.commands, status } };
}

describe('/mesh through Slack, the queue and a worker', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      configYaml: CONFIG,
      configDir: dir,
      label: 'spine',
      handlers: withStatus(async (command) => {
        if (command.cluster === 'icp') throw new Error('boom: the handler broke');
        return new Promise(() => {}); // never settles: the job timeout must end it
      }),
    });
  });
  after(() => h.close());

  it('answers help ephemerally with every subcommand, queueing nothing', async () => {
    const res = await h.command('help');
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body) as { response_type: string; text: string };
    assert.equal(body.response_type, 'ephemeral');
    for (const sub of [
      '/mesh clusters',
      '/mesh status',
      '/mesh vpn',
      '/mesh ping',
      '/mesh route apply',
      '/mesh audit',
      '/mesh schedule list',
    ]) {
      assert.match(body.text, new RegExp(sub.replace(/[/]/g, '\\/')));
    }
    const bare = JSON.parse((await h.command('')).body) as { text: string };
    assert.equal(bare.text, body.text);
    assert.equal(h.parents('C0MESHOPS').length, 0);
  });

  it('refuses an unknown subcommand with the known ones, posting nothing', async () => {
    const res = await h.command('frobnicate', { channel: 'C0UNKNOWN' });
    const body = JSON.parse(res.body) as { response_type: string; text: string };
    assert.equal(body.response_type, 'ephemeral');
    assert.match(body.text, /unknown subcommand "frobnicate"/);
    assert.match(body.text, /clusters, status, vpn, ping/);
    assert.equal(h.parents('C0UNKNOWN').length, 0);
  });

  it('refuses bad arguments naming the problem and the usage', async () => {
    const unknown = JSON.parse((await h.command('status nosuch', { channel: 'C0BADARGS' })).body) as {
      text: string;
    };
    assert.match(unknown.text, /unknown cluster "nosuch"; configured: icp, iks/);
    assert.match(unknown.text, /\/mesh status \[cluster\]/);
    const extra = JSON.parse((await h.command('clusters now', { channel: 'C0BADARGS' })).body) as {
      text: string;
    };
    assert.match(extra.text, /unexpected argument "now"/);
    const shell = JSON.parse(
      (await h.command('ping iks 10.1.0.5;reboot', { channel: 'C0BADARGS' })).body,
    ) as { text: string };
    assert.match(shell.text, /is not allowed/);
    assert.equal(h.parents('C0BADARGS').length, 0);
  });

  it('refuses a change request from a non-operator', async () => {
    const res = JSON.parse(
      (await h.command('repair drift', { user: 'U0CAROL', channel: 'C0FORBID' })).body,
    ) as { text: string };
    assert.match(res.text, /only by operators/);
    assert.equal(h.parents('C0FORBID').length, 0);
  });

  it('queues /mesh clusters: parent, thread reply, parent updated with the verdict', async () => {
    const res = await h.command('clusters', { channel: 'C0FLOW' });
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    const parent = await waitFor('the parent message', () => h.parents('C0FLOW')[0]);
    assert.match(parent.text, /`\/mesh clusters` requested by <@U0ALICE>/);
    const final = await h.waitForVerdict('C0FLOW', '/mesh clusters');
    assert.equal(final.ts, parent.ts, 'the parent is edited in place');
    assert.match(final.text, /\*down\*: 2 of 2 clusters do not answer: icp, iks \(\d/);
    const reply = h.thread('C0FLOW', parent.ts);
    assert.equal(reply.length, 1);
    const text = JSON.stringify(reply[0]!.blocks);
    assert.match(text, /\*icp\* \(primary\) — not reachable: connection refused/);
    assert.match(text, /\*iks\* \(remote\) — not reachable: connection refused/);
    const updates = h.slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === parent.ts);
    assert.match(String(updates[0]?.args.text), /running/);
  });

  it('tells the user how to invite the bot when it cannot post, queueing nothing', async () => {
    h.slack.notInChannel.add('C0PRIVATE');
    const res = await h.command('clusters', { channel: 'C0PRIVATE' });
    assert.equal(res.status, 200);
    const [reply] = await waitFor('the ephemeral advice', () => h.slack.responses.get(res.responseId));
    assert.equal(reply!.response_type, 'ephemeral');
    assert.match(String(reply!.text), /\/invite @meshops/);
    assert.match(String(reply!.text), /not_in_channel/);
    assert.equal(h.parents('C0PRIVATE').length, 0);
  });

  it('reports a throwing handler in the thread with the job id, and marks the parent failed', async () => {
    await h.command('status icp', { channel: 'C0THROW' });
    const final = await h.waitForVerdict('C0THROW', '/mesh status icp');
    assert.match(final.text, /\*failed\*/);
    const replies = h.thread('C0THROW', final.ts);
    assert.equal(replies.length, 1, 'a read-only retry posts no duplicate error');
    assert.match(replies[0]!.text, /The command failed: boom: the handler broke/);
    assert.match(JSON.stringify(replies[0]!.blocks), /job \d+/);
  });

  it('ends a handler that passes its timeout with an error reply', async () => {
    await h.command('status iks', { channel: 'C0SLOW' });
    const final = await h.waitForVerdict('C0SLOW', '/mesh status iks');
    assert.match(final.text, /\*failed\*/);
    assert.match(h.thread('C0SLOW', final.ts)[0]!.text, /timed out after 1 s/);
  });

  it('waits out a 429 with Retry-After and still delivers the reply', async () => {
    h.slack.fault({ method: 'chat.postMessage', channel: 'C0LIMIT', status: 429, retryAfter: 1, times: 1 });
    const started = Date.now();
    await h.command('clusters', { channel: 'C0LIMIT' });
    const final = await h.waitForVerdict('C0LIMIT', '/mesh clusters');
    assert.ok(Date.now() - started >= 1000, 'the post waited for Retry-After');
    assert.equal(h.thread('C0LIMIT', final.ts).length, 1);
    assert.match(h.logs.text(), /Slack call failed; retrying/);
  });
});
