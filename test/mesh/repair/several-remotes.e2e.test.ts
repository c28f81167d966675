import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateScenario } from '../../../src/sim/index.ts';
import { waitFor } from '../../helpers/wait.ts';
import { ALICE, startWorld, text, type World } from './world.ts';

/**
 * `/mesh repair drift` without a remote, on a mesh with two remotes: one command, one approval request per
 * remote, and one parent message that says where each of them stands.
 */
describe('/mesh repair drift of every remote', () => {
  let w: World;
  before(async () => {
    w = await startWorld('repair-remotes', { scenario: generateScenario({ clusters: 3 }) });
  });
  after(() => w.close());

  it("the command's parent follows each request: one decided, the other still waiting", async () => {
    await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    await w.h.command('repair drift', { user: ALICE, channel: 'C0EVERY' });
    const parent = await w.h.waitForVerdict('C0EVERY', '/mesh repair drift', 30_000);
    assert.match(
      parent.text,
      /iks-1: repair waits for approval \(ap-[0-9a-f]+\); iks-2: repair waits for approval \(ap-[0-9a-f]+\)/,
    );
    const first = await w.approval('C0EVERY', 1);
    const second = await w.approval('C0EVERY', 2);
    const [one, two] = /Repair drift on iks-1/.test(text(first.message)) ? [first, second] : [second, first];

    await w.reject('C0EVERY', one);
    const afterOne = await waitFor('the parent showing the rejection', () => {
      const m = w.message('C0EVERY', parent.ts);
      return /rejected/.test(m.text) && m;
    });
    assert.match(
      afterOne.text,
      new RegExp(
        `— iks-1: :no_entry_sign: \\*rejected\\* by <@U0BOB> at .* \\(${one.id}\\); iks-2: :hourglass_flowing_sand: approval requested \\(${two.id}\\)$`,
      ),
    );

    await w.reject('C0EVERY', two);
    const afterTwo = await waitFor('the parent showing both rejections', () => {
      const m = w.message('C0EVERY', parent.ts);
      return !/approval requested/.test(m.text) && m;
    });
    assert.match(
      afterTwo.text,
      new RegExp(
        `— iks-1: :no_entry_sign: \\*rejected\\* by <@U0BOB> at .* \\(${one.id}\\); iks-2: :no_entry_sign: \\*rejected\\* by <@U0BOB> at .* \\(${two.id}\\)$`,
      ),
    );
  });
});
