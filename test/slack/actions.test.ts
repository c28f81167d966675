import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXPIRE_ACTION, SWEEP_ACTION } from '../../src/approvals/types.ts';
import { REPLAN_ACTION, VERIFY_ACTION } from '../../src/jobs/drift-followup.ts';
import { waitFor } from '../helpers/wait.ts';
import { ALICE, BOB, blocksText, CAROL, presetSpec, startWorld, type World } from '../mesh/routing/world.ts';

describe('button clicks from Slack', () => {
  let w: World;
  before(async () => {
    w = await startWorld('actions');
  });
  after(() => w.close());

  it('internal action ids accepted from Slack: 0 — each is refused, logged, and changes nothing', async () => {
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0ACTIONS' });
    const { ts, id } = await w.approval('C0ACTIONS');
    const forged = [EXPIRE_ACTION, SWEEP_ACTION, VERIFY_ACTION, REPLAN_ACTION, 'mesh.nope'];
    for (const actionId of forged) {
      const { responseId } = await w.h.click({
        user: CAROL,
        channel: 'C0ACTIONS',
        messageTs: ts,
        actionId,
        value: id,
      });
      const [refusal] = await waitFor(`the refusal of ${actionId}`, () =>
        w.h.slack.responses.get(responseId),
      );
      assert.match(String(refusal!.text), /meshops does not take that action; nothing was done/);
    }
    const logged = w.h.logs
      .text()
      .split('\n')
      .filter((l) => l.includes('refused an action meshops never posts'));
    assert.deepEqual(
      forged.filter((a) => !logged.some((l) => l.includes(`"action":"${a}"`))),
      [],
      'every refusal is logged with its action id',
    );
    // The forged expiry did not expire the request: it is still open, and a real approver applies it.
    assert.match(blocksText(w.message('C0ACTIONS', ts)), /mesh\.approve/);
    await w.approve('C0ACTIONS', BOB);
    await waitFor('the apply', () => /\*Applied\*/.test(w.message('C0ACTIONS', ts).text));
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-v3'));
  });
});
