import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../../helpers/redis.ts';
import { waitFor } from '../../helpers/wait.ts';
import { ALICE, auditEntry, BOB, blocksText, presetSpec, startWorld, type World } from './world.ts';

/** A write the API server may have stored although its answer said otherwise: meshops reads it back. */
describe('/mesh route apply when the answer to a write is lost', () => {
  let w: World;
  const redis = new Redis(REDIS_URL);
  const rollbackPoint = () => redis.get(`${w.h.prefix}:routing:rollback`);
  before(async () => {
    w = await startWorld('route-unclear');
  });
  after(async () => {
    await w.close();
    redis.disconnect();
  });
  beforeEach(async () => {
    await w.sim.faults.reset();
  });

  it('a replace stored but answered 504 is reported applied, and rollback undoes it', async () => {
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0LOST' });
    const { ts, id } = await w.approval('C0LOST');
    w.sim.faults.failWrites('icp', 'lost-reply');
    await w.approve('C0LOST', BOB);
    await waitFor('the outcome', () => /\*(Applied|Failed)\*/.test(w.message('C0LOST', ts).text));
    assert.match(w.message('C0LOST', ts).text, /\*Applied\*.*reviews-v3 is live on icp/);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-v3'));
    const reply = await waitFor('the thread reply', () => w.h.thread('C0LOST', ts)[0]);
    assert.match(
      blocksText(reply),
      /default\/reviews: resourceVersion \d+ → \d+ \(the API server answered .*Timeout.*but reading it back shows it applied\)/,
    );
    assert.equal(await rollbackPoint(), id, 'the rollback point follows what is live');
    await auditEntry(w, { action: 'applied', request: id });

    await w.h.command('route rollback', { user: ALICE, channel: 'C0LOSTBACK' });
    const back = await w.approval('C0LOSTBACK');
    assert.match(blocksText(back.message), /Route rollback \(undo reviews-v3\)/);
    await w.reject('C0LOSTBACK', BOB);
  });

  it('a write answered 500 and not stored is reported not applied; the rollback point stays', async () => {
    const point = await rollbackPoint();
    await w.h.command('route apply reviews-v2-v3', { user: ALICE, channel: 'C0NOTSTORED' });
    const { ts, id } = await w.approval('C0NOTSTORED');
    const before = await w.vs('icp', 'reviews');
    w.sim.faults.failWrites('icp', 'not-committed');
    await w.approve('C0NOTSTORED', BOB);
    await waitFor('the failure', () => /\*Failed\*/.test(w.message('C0NOTSTORED', ts).text));
    assert.match(
      w.message('C0NOTSTORED', ts).text,
      /default\/reviews could not be written: .*etcdserver: request timed out.*\(read back: not applied\)/,
    );
    assert.deepEqual(await w.vs('icp', 'reviews'), before);
    assert.match(
      blocksText((await waitFor('the reply', () => w.h.thread('C0NOTSTORED', ts)[0]))!),
      /Nothing was written/,
    );
    assert.equal(await rollbackPoint(), point);
    await auditEntry(w, { action: 'failed', request: id });
  });

  it('when the object cannot be read back either, the outcome is reported unknown, never "nothing was written"', async () => {
    await w.h.command('route apply reviews-50-v3', { user: ALICE, channel: 'C0UNKNOWN' });
    const { ts } = await w.approval('C0UNKNOWN');
    const icp = w.sim.clusters.get('icp')!;
    // The control plane goes away as the PUT leaves: it gets 503, and so does the read after it.
    const onRequest = (message: unknown) => {
      const { request } = message as { request: { origin: string; method: string } };
      if (request.method === 'PUT' && String(request.origin) === new URL(icp.url).origin)
        w.sim.faults.setUnavailable('icp', true);
    };
    subscribe('undici:request:create', onRequest);
    try {
      await w.approve('C0UNKNOWN', BOB);
      await waitFor('the failure', () => /\*Failed\*/.test(w.message('C0UNKNOWN', ts).text));
    } finally {
      unsubscribe('undici:request:create', onRequest);
    }
    const text = w.message('C0UNKNOWN', ts).text;
    assert.match(
      text,
      /default\/reviews: outcome unknown — the API server answered .* and it could not be read back/,
    );
    const reply = blocksText((await waitFor('the reply', () => w.h.thread('C0UNKNOWN', ts)[0]))!);
    assert.doesNotMatch(reply, /Nothing was written/);
    assert.match(reply, /check it with `\/mesh route show reviews`/);
  });
});
