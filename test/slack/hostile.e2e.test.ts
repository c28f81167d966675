import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { ALICE, CAROL, presetSpec, startWorld, type World } from '../mesh/routing/world.ts';

const HOSTILE = '<!channel> <https://evil.example/sso|Approve here>';
const LIVE = /<!channel>|<https:\/\/evil/;

describe('text from a cluster, end to end through Slack', () => {
  let w: World;
  before(async () => {
    w = await startWorld('hostile');
  });
  after(() => w.close());

  it('a VirtualService header match never notifies the channel nor shows a disguised link', async () => {
    const jason = presetSpec('reviews-jason-v2-v3');
    await w.editVs('icp', 'reviews', {
      ...jason,
      http: [
        { ...jason.http![0]!, match: [{ headers: { 'end-user': { exact: HOSTILE } } }] },
        jason.http![1]!,
      ],
    });
    for (const [text, user] of [
      ['route show', CAROL],
      ['route show reviews', CAROL],
      ['route list', CAROL],
      ['route diff all-v1', CAROL],
      ['route apply all-v1', ALICE],
    ] as const) {
      await w.h.command(text, { user, channel: 'C0HOSTILE' });
      await w.h.waitForVerdict('C0HOSTILE', `/mesh ${text}`);
    }
    await w.approval('C0HOSTILE');
    const messages = await waitFor('every reply', () => {
      const all = w.h.slack.messages.filter((m) => m.channel === 'C0HOSTILE');
      return all.length >= 11 && all;
    });
    const seen = messages.map((m) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`).join('\n');
    assert.match(
      seen,
      /&lt;!channel&gt; &lt;https:\/\/evil\.example\/sso\|Approve here&gt;/,
      'shown as text',
    );
    assert.doesNotMatch(seen, LIVE, 'never as markup');
    await w.reject('C0HOSTILE', 'U0BOB');
  });
});
