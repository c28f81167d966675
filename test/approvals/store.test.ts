import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createAudit } from '../../src/access/audit.ts';
import { createLocks } from '../../src/access/locks.ts';
import { approvalStore } from '../../src/approvals/store.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const redis = new Redis(REDIS_URL);
const prefix = uniquePrefix('approvals');

async function pending(id: string, expiresInMs: number): Promise<void> {
  await redis.hset(`${prefix}:approval:${id}`, {
    data: JSON.stringify({ id, title: id }),
    state: 'pending',
    expiresAt: String(Date.now() + expiresInMs),
  });
}

describe('approval state, locks and audit in Redis', () => {
  before(() => redis.ping());
  after(async () => {
    await dropPrefix(prefix);
    redis.disconnect();
  });

  it('lets exactly one of many concurrent claims move a request from pending to applying', async () => {
    await pending('ap-race', 60_000);
    // Separate connections, as separate workers would have.
    const clients = Array.from({ length: 8 }, () => new Redis(REDIS_URL));
    try {
      const results = await Promise.all(
        clients.map((c, i) =>
          approvalStore({ redis: c, prefix }).transition('ap-race', 'pending', 'applying', {
            by: `U${i}`,
            expiry: 'live',
          }),
        ),
      );
      const winners = results.filter((r) => r.ok);
      assert.equal(winners.length, 1);
      const winnerStatus = (await approvalStore({ redis, prefix }).get('ap-race'))!.status;
      const pick = (st: typeof winnerStatus) => ({ decidedBy: st.decidedBy, decidedAt: st.decidedAt });
      // Every loser learns the request is already applying, and by whom.
      for (const r of results.filter((x) => !x.ok))
        assert.deepEqual(r, {
          ok: false,
          why: 'state',
          status: { state: 'applying', ...pick(winnerStatus) },
        });
      const { status } = (await approvalStore({ redis, prefix }).get('ap-race'))!;
      assert.equal(status.state, 'applying');
      assert.match(status.decidedBy!, /^U\d$/);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('expires instead of claiming once the request is past its time, and the expiry never comes early', async () => {
    const store = approvalStore({ redis, prefix });
    await pending('ap-late', -1);
    assert.deepEqual(
      await store.transition('ap-late', 'pending', 'applying', { by: 'U0BOB', expiry: 'live' }),
      {
        ok: false,
        why: 'expired',
      },
    );
    assert.equal((await store.get('ap-late'))!.status.state, 'expired');
    await pending('ap-early', 60_000);
    const early = await store.transition('ap-early', 'pending', 'expired', { by: 'meshops', expiry: 'due' });
    assert.equal(early.ok === false && early.why, 'early');
    assert.equal((await store.get('ap-early'))!.status.state, 'pending');
    assert.deepEqual(await store.transition('ap-none', 'pending', 'applying', { by: 'U0BOB' }), {
      ok: false,
      why: 'missing',
    });
  });

  it('takes all locks or none, names the holder, and lets only the holder release', async () => {
    const locks = createLocks(redis, prefix);
    assert.deepEqual(await locks.acquire(['vs/a', 'vs/b'], 'ap-1', 60_000), { ok: true });
    assert.deepEqual(await locks.acquire(['vs/c', 'vs/b'], 'ap-2', 60_000), {
      ok: false,
      target: 'vs/b',
      holder: 'ap-1',
    });
    assert.equal(await redis.exists(`${prefix}:lock:vs/c`), 0, 'a refused acquire takes nothing');
    assert.equal(await locks.release(['vs/a', 'vs/b'], 'ap-2'), 0);
    assert.equal(await locks.release(['vs/a', 'vs/b'], 'ap-1'), 2);
    assert.deepEqual(await locks.acquire(['vs/c', 'vs/b'], 'ap-2', 60_000), { ok: true });
    assert.ok((await redis.pttl(`${prefix}:lock:vs/b`)) > 0, 'every lock has a TTL');
  });

  it('appends audit entries newest first and trims what is older than the retention', async () => {
    const log = pino({ level: 'silent' });
    const auditPrefix = `${prefix}-audit`;
    try {
      const audit = createAudit({
        redis,
        prefix: auditPrefix,
        retentionMs: 60_000,
        maxEntries: 100_000,
        log,
      });
      // An entry from two minutes ago, written as the stream would have it then.
      await redis.xadd(
        `${auditPrefix}:audit`,
        `${Date.now() - 120_000}-0`,
        'action',
        'requested',
        'subject',
        'old',
      );
      await audit.record({
        action: 'requested',
        who: 'U0ALICE',
        kind: 'routing',
        subject: 'reviews-v3',
        result: 'pending',
      });
      await audit.record({
        action: 'approved',
        who: 'U0BOB',
        kind: 'routing',
        subject: 'reviews-v3',
        planHash: 'abc',
        result: 'ok',
      });
      const entries = await audit.latest(10);
      assert.deepEqual(
        entries.map((e) => `${e.action}:${e.who}:${e.subject}`),
        ['approved:U0BOB:reviews-v3', 'requested:U0ALICE:reviews-v3'],
      );
      assert.equal(entries[0]!.planHash, 'abc');
    } finally {
      await dropPrefix(auditPrefix);
    }
  });
});
