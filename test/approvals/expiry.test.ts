import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
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

describe('an approval nobody answers', () => {
  let w: World;
  const redis = new Redis(REDIS_URL);
  before(async () => {
    w = await startWorld('route-expiry', { approvalTtl: '1s' });
  });
  after(async () => {
    await w.close();
    redis.disconnect();
  });

  it('expires by itself: the message says so, the lock is released, and a late click is refused', async () => {
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0EXPIRE' });
    const { ts, id } = await w.approval('C0EXPIRE');
    assert.match(blocksText(w.message('C0EXPIRE', ts)), /Waiting for approval until/);
    await waitFor(
      'the message to say expired',
      () => /Expired\* at/.test(w.message('C0EXPIRE', ts).text),
      10_000,
    );
    const expired = w.message('C0EXPIRE', ts);
    assert.match(
      expired.text,
      /nobody approved it in time\. Nothing was changed and the lock is released; <@U0ALICE> can request it again/,
    );
    assert.doesNotMatch(blocksText(expired), /mesh\.approve/, 'the buttons are gone');
    assert.deepEqual(await redis.keys(`${w.h.prefix}:lock:*`), []);
    const entry = await auditEntry(w, { action: 'expired', request: id });
    assert.equal(entry.who, 'meshops');

    await w.h.click({ user: BOB, channel: 'C0EXPIRE', messageTs: ts, actionId: 'mesh.approve', value: id });
    const [late] = await waitFor(
      'the late click answer',
      () => w.ephemerals('C0EXPIRE', BOB).length > 0 && w.ephemerals('C0EXPIRE', BOB),
    );
    assert.match(late!, /You cannot approve "Route apply reviews-v3": it was expired at/);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    await auditEntry(w, { action: 'refused', who: BOB, request: id });
  });
});
