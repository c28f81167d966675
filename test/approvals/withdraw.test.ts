import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { WITHDRAW_ACTION } from '../../src/approvals/types.ts';
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

describe('withdrawing a pending request', () => {
  let w: World;
  const redis = new Redis(REDIS_URL);
  before(async () => {
    w = await startWorld('withdraw');
  });
  after(async () => {
    await w.close();
    redis.disconnect();
  });

  it('the requester withdraws: nothing changes, the lock is released, a new request can be made at once', async () => {
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0WITHDRAW' });
    const { ts, id, message } = await w.approval('C0WITHDRAW');
    assert.match(blocksText(message), /"text":"Withdraw".*"action_id":"mesh\.withdraw"/);
    const withdraw = (user: string) =>
      w.h.click({ user, channel: 'C0WITHDRAW', messageTs: ts, actionId: WITHDRAW_ACTION, value: id });

    await withdraw(BOB);
    await waitFor('the refusal', () =>
      w
        .ephemerals('C0WITHDRAW', BOB)
        .some((t) => /Only <@U0ALICE>, who requested .*, may withdraw it/.test(t)),
    );
    assert.match(blocksText(w.message('C0WITHDRAW', ts)), /mesh\.approve/, 'still pending');

    await withdraw(ALICE);
    await waitFor('the withdrawal', () =>
      /\*Withdrawn\* by <@U0ALICE>/.test(w.message('C0WITHDRAW', ts).text),
    );
    assert.doesNotMatch(blocksText(w.message('C0WITHDRAW', ts)), /mesh\.(approve|reject|withdraw)/);
    assert.deepEqual(await redis.keys(`${w.h.prefix}:lock:*`), [], 'the lock is released');
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'), 'nothing was written');
    await auditEntry(w, { action: 'withdrawn', who: ALICE, request: id });

    // A late approval is told what happened; the next request is not held up by a lock.
    await w.h.click({ user: BOB, channel: 'C0WITHDRAW', messageTs: ts, actionId: 'mesh.approve', value: id });
    await waitFor('the late refusal', () =>
      w.ephemerals('C0WITHDRAW', BOB).some((t) => /it was withdrawn by <@U0ALICE>/.test(t)),
    );
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0AGAIN' });
    const again = await w.approval('C0AGAIN');
    assert.notEqual(again.id, id);
    await w.reject('C0AGAIN', BOB);
  });
});
