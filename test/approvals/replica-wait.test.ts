import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type SimMesh, startSimMesh } from '../../src/sim/index.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';
import { type SentinelLab, sentinelAvailable, startSentinelLab } from '../helpers/sentinel.ts';
import { waitFor } from '../helpers/wait.ts';
import { ALICE, BOB, configYaml } from '../mesh/routing/world.ts';

/**
 * With REDIS_WAIT_REPLICAS above the lab's one replica, every WAIT runs out of time and says so with what the
 * real replica confirmed: the log shows which writes waited for a replica.
 */
describe('approval decisions and joined commands wait for a Redis replica, as an acked command does', {
  skip: !sentinelAvailable && 'redis-server is not installed',
}, () => {
  let lab: SentinelLab;
  let sim: SimMesh;
  let h: Harness;
  let dir: string;
  before(async () => {
    lab = await startSentinelLab({ name: 'meshops-wait' });
    dir = mkdtempSync(join(tmpdir(), 'meshops-replica-wait-'));
    sim = await startSimMesh({ dir });
    h = await startHarness({
      configYaml: configYaml(sim),
      configDir: dir,
      label: 'replicawait',
      env: {
        REDIS_SENTINELS: lab.sentinelList,
        REDIS_SENTINEL_NAME: lab.name,
        REDIS_PASSWORD: lab.password,
        REDIS_WAIT_REPLICAS: '2',
      },
    });
  });
  after(async () => {
    await h?.close();
    await sim?.close();
    await lab?.stop();
  });

  const shortWaits = (msg: string) =>
    h.logs.lines
      .map((l) => JSON.parse(l) as { msg?: string; wanted?: number; acked?: number })
      .filter((l) => l.msg === msg);

  it('waits after the request is recorded, after the claim and after each recorded write', async () => {
    await h.command('route apply reviews-v3', { user: ALICE, channel: 'C0WAIT' });
    const approval = await waitFor('the approval message', () =>
      h.parents('C0WAIT').find((m) => JSON.stringify(m.blocks).includes('"action_id":"mesh.approve"')),
    );
    const requested = shortWaits('an approval write went on before a Redis replica confirmed it').length;
    assert.ok(requested >= 1, 'the new request waited for the replica');
    const id = /"value":"(ap-[0-9a-f]+)"/.exec(JSON.stringify(approval.blocks))![1]!;
    await h.click({
      user: BOB,
      channel: 'C0WAIT',
      messageTs: approval.ts,
      actionId: 'mesh.approve',
      value: id,
    });
    await waitFor(
      'the apply',
      () => /\*Applied\*/.test(h.parents('C0WAIT').find((m) => m.ts === approval.ts)?.text ?? ''),
      30_000,
    );
    const waits = shortWaits('an approval write went on before a Redis replica confirmed it');
    // The claim (pending → applying), the write recorded, the conclusion (applying → applied).
    assert.ok(waits.length >= requested + 3, `${waits.length - requested} waits after the click`);
    assert.ok(
      waits.every((w) => w.wanted === 2 && w.acked === 1),
      'the real replica confirmed each write; the second one wanted does not exist',
    );
  });

  it('waits before a joined command is acked, not only before a queued one', async () => {
    // An app without a worker keeps the first run queued, so the second command joins it.
    const app = await startHarness({
      configYaml: configYaml(sim),
      configDir: dir,
      label: 'replicawaitapp',
      role: 'app',
      env: {
        REDIS_SENTINELS: lab.sentinelList,
        REDIS_SENTINEL_NAME: lab.name,
        REDIS_PASSWORD: lab.password,
        REDIS_WAIT_REPLICAS: '2',
      },
    });
    try {
      const waits = () =>
        app.logs.lines
          .map((l) => JSON.parse(l) as { msg?: string; wanted?: number; acked?: number })
          .filter((l) => l.msg === 'a command was acked before a Redis replica confirmed it');
      assert.equal((await app.command('clusters', { user: 'U0JOIN1', channel: 'C0JOIN' })).body, '');
      assert.equal(waits().length, 1, 'the queued command waited');
      const second = await app.command('clusters', { user: 'U0JOIN2', channel: 'C0JOIN' });
      assert.match(second.body, /you joined that run/);
      assert.equal(waits().length, 2, 'the joined command waited too');
      assert.ok(waits().every((w) => w.wanted === 2 && w.acked === 1));
    } finally {
      await app.close();
    }
  });
});
