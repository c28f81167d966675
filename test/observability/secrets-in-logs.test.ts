import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOT_TOKEN, SIGNING_SECRET } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';
import { ALICE, BOB, startWorld, type World } from '../mesh/routing/world.ts';

describe('secrets in the logs of a full run', () => {
  let w: World;
  before(async () => {
    w = await startWorld('secrets');
  });
  after(() => w.close());

  it("never logs the bot token, the signing secret, a kubeconfig token or a remote secret's token, at debug level", async () => {
    // A run that touches everything: every read command, a failing cluster, and an approved change.
    for (const text of [
      'clusters',
      'status',
      'vpn',
      'ping iks icp',
      'route list',
      'route diff reviews-v3',
      'audit',
    ]) {
      await w.h.command(text, { user: ALICE, channel: 'C0SECRET' });
      await w.h.waitForVerdict('C0SECRET', `/mesh ${text}`, 30_000);
    }
    w.sim.faults.revokeToken('iks');
    await w.h.command('status iks', { user: ALICE, channel: 'C0SECRET2' });
    await w.h.waitForVerdict('C0SECRET2', '/mesh status iks', 30_000);
    w.sim.faults.reset();
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0SECRET3' });
    await w.approval('C0SECRET3');
    await w.approve('C0SECRET3', BOB);
    await waitFor(
      'the applied change',
      async () => (await w.vs('icp', 'reviews'))?.spec.http?.[0]?.route?.[0]?.destination.subset === 'v3',
      30_000,
    );

    const logs = w.h.logs.text();
    assert.ok(logs.split('\n').length > 20, `a full run logged plenty: ${logs.split('\n').length} lines`);
    // The remote secret meshops reads holds pilot's (istio-multi) token, which meshops never registers.
    const remoteSecret = await w
      .core('icp')
      .readNamespacedSecret({ name: 'iriscluster', namespace: 'istio-system' });
    const pilotKubeconfig = Buffer.from(remoteSecret.data!.iriscluster!, 'base64').toString();
    const pilotToken = /token: (\S+)/.exec(pilotKubeconfig)![1]!;
    const secrets = {
      'bot token': BOT_TOKEN,
      'signing secret': SIGNING_SECRET,
      'remote secret token': pilotToken,
      ...Object.fromEntries([...w.sim.clusters.values()].map((c) => [`${c.name} kubeconfig token`, c.token])),
    };
    for (const [what, secret] of Object.entries(secrets)) {
      assert.ok(secret.length > 8);
      assert.ok(!logs.includes(secret), `the ${what} appears in the logs`);
    }
  });
});
