import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { redisTarget } from '../../src/config/redis.ts';
import { createRedis } from '../../src/queue/connection.ts';
import { createReplicaWait } from '../../src/queue/replication.ts';
import { type SimMesh, startSimMesh } from '../../src/sim/index.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';
import { type SentinelLab, sentinelAvailable, startSentinelLab } from '../helpers/sentinel.ts';
import { waitFor } from '../helpers/wait.ts';
import { ALICE, BOB, configYaml } from '../mesh/routing/world.ts';

/** At most: the loop stops 4 commands after the new master is known. */
const COMMANDS = 80;

describe('Redis behind Sentinel: the master is killed while commands are being acked', {
  skip: !sentinelAvailable && 'redis-server is not installed',
}, () => {
  let lab: SentinelLab;
  let sim: SimMesh;
  let h: Harness;
  before(async () => {
    lab = await startSentinelLab();
    const dir = mkdtempSync(join(tmpdir(), 'meshops-failover-'));
    sim = await startSimMesh({ dir });
    h = await startHarness({
      configYaml: configYaml(sim),
      configDir: dir,
      label: 'failover',
      env: {
        REDIS_SENTINELS: lab.sentinelList,
        REDIS_SENTINEL_NAME: lab.name,
        REDIS_PASSWORD: lab.password,
      },
    });
  });
  after(async () => {
    await h?.close();
    await sim?.close();
    await lab?.stop();
  });

  it('states the Redis it found, with its replica, at start-up', () => {
    const found = h.logs.lines
      .map((l) => JSON.parse(l) as Record<string, string>)
      .find((l) => l.msg === 'Redis found');
    assert.ok(found, 'a "Redis found" line is logged');
    assert.match(found.redis!, new RegExp(`Sentinel master group "${lab.name}" via 127\\.0\\.0\\.1:\\d+`));
    assert.match(
      found.found!,
      /^Redis 7\.\d+\.\d+, master, 1 replica, maxmemory-policy noeviction, maxmemory 64 MiB, persistence AOF/,
    );
  });

  it('waits for the replica before an ack, bounded when fewer replicas than wanted exist', async () => {
    const client = createRedis({
      ...redisTarget({
        REDIS_URL: 'redis://127.0.0.1',
        REDIS_SENTINELS: lab.sentinelList,
        REDIS_SENTINEL_NAME: lab.name,
        REDIS_PASSWORD: lab.password,
      }),
    });
    try {
      await client.set(`${h.prefix}:probe`, '1');
      assert.deepEqual(
        await createReplicaWait()(client),
        { wanted: 1, acked: 1 },
        'one replica: waits for it',
      );
      const short: number[][] = [];
      await client.set(`${h.prefix}:probe`, '2');
      const ack = await createReplicaWait({
        wanted: 2,
        timeoutMs: 200,
        onShort: (w, a) => short.push([w, a]),
      })(client);
      assert.deepEqual(ack, { wanted: 2, acked: 1 });
      assert.deepEqual(short, [[2, 1]], 'a short WAIT is reported');
    } finally {
      client.disconnect();
    }
  });

  it('answers every acked command after the failover, loses no approval, and /readyz recovers by itself', async () => {
    // A pending approval written before the failover.
    await h.command('route apply reviews-v3', { user: ALICE, channel: 'C0PENDING' });
    const approval = await waitFor('the approval message', () =>
      h.parents('C0PENDING').find((m) => JSON.stringify(m.blocks).includes('"action_id":"mesh.approve"')),
    );
    const approvalId = /"value":"(ap-[0-9a-f]+)"/.exec(JSON.stringify(approval.blocks))![1]!;

    const oldMaster = await lab.masterPort();
    const sent: Promise<{ body: string }>[] = [];
    let failedOver: Promise<number> | undefined;
    let newMaster = false;
    // Commands keep coming through the failover and a few after it, however long the Sentinels take on a
    // loaded machine (a fixed count could all fall inside the failover).
    for (let i = 0, after = 0; i < COMMANDS && after < 4; i++) {
      // One user each: the per-person rate limit is not what this test is about.
      sent.push(h.command('route list', { user: `U0F${i}`, channel: `C0F${i}` }));
      if (i === 3) {
        // The first four are acked before the kill (the assertion below is about those), not racing it.
        await Promise.all(sent);
        await lab.killMaster();
        failedOver = lab.failedOver(oldMaster).then((port) => {
          newMaster = true;
          return port;
        });
      }
      if (newMaster) after++;
      await new Promise((r) => setTimeout(r, 400));
    }
    const acks = await Promise.all(sent);
    await failedOver;

    // Every command ends either refused in its ack ("Not queued", the user was told to retry) or answered:
    // an acked command left unanswered would be one the failover lost.
    const outcomes = await Promise.all(
      acks.map((ack, i) =>
        /Not queued/.test(ack.body)
          ? 'refused'
          : waitFor(
              `command ${i} to be answered`,
              () => {
                const parent = h.parents(`C0F${i}`)[0];
                return parent && /presets; live routes on icp match/.test(parent.text)
                  ? 'answered'
                  : undefined;
              },
              60_000,
            ),
      ),
    );
    const answered = outcomes.filter((o) => o === 'answered').length;
    assert.ok(
      answered >= 4 && outcomes.slice(4).includes('answered'),
      `the commands acked before the kill were answered (${outcomes.join(' ')})`,
    );

    await waitFor(
      '/readyz to recover',
      async () => (await fetch(`${h.meshops.opsUrl}/readyz`)).status === 200,
      30_000,
    );
    await h.click({
      user: BOB,
      channel: 'C0PENDING',
      messageTs: approval.ts,
      actionId: 'mesh.approve',
      value: approvalId,
    });
    await waitFor(
      'the approval written before the failover to apply',
      () =>
        /Applied\* at/.test(
          h.slack.messages.find((m) => m.channel === 'C0PENDING' && m.ts === approval.ts)?.text ?? '',
        ),
      60_000,
    );
  });
});
