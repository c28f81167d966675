import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SlackApiStub, startSlackApi } from '../../src/console/slack-api.ts';
import { createSlackClient } from '../../src/slack/poster.ts';
import { createUserNames } from '../../src/slack/users.ts';
import { BOT_TOKEN } from '../helpers/harness.ts';

describe('people named by users.info', () => {
  let slack: SlackApiStub;
  before(async () => {
    slack = await startSlackApi({ users: new Map([['U0ALICE', 'Alice Example']]) });
  });
  after(() => slack.close());

  const lookups = () => slack.calls.filter((c) => c.method === 'users.info').length;
  const names = () => createUserNames(createSlackClient(BOT_TOKEN, slack.url, 3000));

  it('names a user once, then from memory', async () => {
    const userName = names();
    const before = lookups();
    assert.equal(await userName('U0ALICE'), 'Alice Example');
    assert.equal(await userName('U0ALICE'), 'Alice Example');
    assert.equal(lookups() - before, 1);
  });

  it('shows the id while Slack cannot say, and asks again next time', async () => {
    const failed: string[] = [];
    const userName = createUserNames(createSlackClient(BOT_TOKEN, slack.url, 3000), {
      onLookupFailed: (user) => failed.push(user),
    });
    slack.fault({ method: 'users.info', error: 'user_not_found', times: 1 });
    assert.equal(await userName('U0ALICE'), 'U0ALICE');
    assert.deepEqual(failed, ['U0ALICE']);
    assert.equal(await userName('U0ALICE'), 'Alice Example');
  });

  it('keeps what is not a Slack user id as it is, without asking', async () => {
    const userName = names();
    const before = lookups();
    assert.equal(await userName('meshops'), 'meshops');
    assert.equal(lookups(), before);
  });
});
