import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { approvalStore } from '../../src/approvals/store.ts';
import { SWEEP_ACTION } from '../../src/approvals/types.ts';
import { createRedis } from '../../src/queue/connection.ts';
import { QUEUE_NAME } from '../../src/queue/jobs.ts';
import { REDIS_URL } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  ALICE,
  auditEntry,
  BOB,
  blocksText,
  presetSpec,
  startWorld,
  type World,
} from '../mesh/routing/world.ts';

/**
 * The approval sweep a running worker repeats (each minute by default; shortened here through the worker's
 * start options): a request left "applying" by a job that will never run again, after the worker's start-up
 * sweep found nothing, is concluded by a periodic run, not left until its lock expires.
 */
describe('the periodic approval sweep', () => {
  let w: World;
  const redis = createRedis(REDIS_URL);
  let queue: Queue;
  before(async () => {
    w = await startWorld('approval-sweep', { start: { approvalSweepMs: 300 } });
    queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: w.h.prefix });
  });
  after(async () => {
    await queue.close();
    await w.close();
    redis.disconnect();
  });

  /** The action stamps of the sweeps the worker has completed. */
  const sweepsDone = async () =>
    (await queue.getJobs(['completed'])).flatMap((j) =>
      j.name === `action:${SWEEP_ACTION}` ? [String(j.data.actionTs)] : [],
    );

  it('concludes a request left "applying" by an approval job that is gone, found after start-up', async () => {
    await waitFor('the start-up sweep done', async () =>
      (await sweepsDone()).some((ts) => ts.startsWith('sweep-start-')),
    );
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0SWEEP' });
    const { ts, id } = await w.approval('C0SWEEP');
    // What a worker killed mid-apply leaves when its job is then removed: the request claimed for applying by
    // a click whose job no longer exists (the claim is what the approval job's own claim writes).
    const store = approvalStore({ redis, prefix: w.h.prefix });
    const claimed = await store.transition(id, 'pending', 'applying', {
      by: BOB,
      expiry: 'live',
      claim: `1764770000-000001/${BOB}`,
    });
    assert.deepEqual(claimed, { ok: true });

    await waitFor('the apply concluded', () => /\*Applied\*/.test(w.message('C0SWEEP', ts).text), 30_000);
    assert.match(
      w.message('C0SWEEP', ts).text,
      /approved by <@U0BOB>, applied by meshops: .*\(resumed after the worker applying it stopped\)/,
    );
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-v3'));
    const reply = await waitFor('the thread reply', () => w.h.thread('C0SWEEP', ts)[0]);
    assert.match(blocksText(reply), /Applied/);
    await auditEntry(w, { action: 'applied', request: id });
    // A periodic sweep took it over (its claim names it), not the one at start-up.
    assert.match((await store.get(id))!.status.claim!, /^sweep-\d+\/meshops$/);
    assert.deepEqual(await redis.keys(`${w.h.prefix}:lock:*`), [], 'the lock is released');
  });
});
