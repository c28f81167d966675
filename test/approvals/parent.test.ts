import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultHandlers } from '../../src/jobs/index.ts';
import type { Handlers } from '../../src/jobs/types.ts';
import { waitFor } from '../helpers/wait.ts';
import { ALICE, BOB, startWorld, type World } from '../mesh/routing/world.ts';

describe('the parent of a command whose request is decided before the command has finished', () => {
  let w: World;
  // Holds `/mesh route apply` after it has asked for approval and before its result is recorded on the parent.
  let release: () => void = () => {};
  before(async () => {
    const real = defaultHandlers();
    const apply = real.commands['route-apply']!;
    const handlers: Handlers = {
      ...real,
      commands: {
        ...real.commands,
        'route-apply': async (command, job, ctx) => {
          const result = await apply(command, job, ctx);
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          return result;
        },
      },
    };
    w = await startWorld('parent-turns', { start: { handlers } });
  });
  after(async () => {
    release();
    await w?.close();
  });

  it('shows the decision, not "approval requested"', async () => {
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0EARLY' });
    const approval = await w.approval('C0EARLY');
    await w.reject('C0EARLY', BOB);
    await waitFor('the approval message to say rejected', () =>
      /rejected/i.test(w.message('C0EARLY', approval.ts).text),
    );
    release();
    const parent = await w.h.waitForVerdict('C0EARLY', '/mesh route apply reviews-v3');
    assert.match(parent.text, /:no_entry_sign: \*rejected\* by <@U0BOB>/);
    assert.doesNotMatch(parent.text, /approval requested/);
  });
});
