import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPermissions, type GroupResolver } from '../../src/access/permissions.ts';
import type { MeshConfig } from '../../src/config/schema.ts';
import { type SlackApiStub, startSlackApi } from '../../src/console/slack-api.ts';
import { createSlackClient } from '../../src/slack/poster.ts';
import { waitFor } from '../helpers/wait.ts';

const access = { operators: ['S0OPS'], approvers: ['U0BOB'] } as unknown as MeshConfig['access'];

describe('user-group memberships', () => {
  let slack: SlackApiStub;
  let resolve: GroupResolver;
  before(async () => {
    slack = await startSlackApi();
    slack.userGroups.set('S0OPS', ['U0ALICE']);
    const client = createSlackClient('xoxb-test', slack.url, 3000);
    resolve = async (group) => (await client.usergroups.users.list({ usergroup: group })).users ?? [];
  });
  after(() => slack.close());

  const lookups = () => slack.calls.filter((c) => c.method === 'usergroups.users.list').length;

  it('does not remember a failed lookup (a 429 included): the next check asks again', async () => {
    const failed: string[] = [];
    const p = createPermissions(access, resolve, { onLookupFailed: (g) => failed.push(g) });
    slack.fault({ method: 'usergroups.users.list', status: 429, retryAfter: 30 });
    assert.equal(await p.isOperator('U0ALICE'), false, 'unknown while Slack refuses');
    assert.deepEqual(failed, ['S0OPS']);
    assert.equal(await p.isOperator('U0ALICE'), true, 'not locked out for the cache lifetime');
  });

  it('keeps serving the last good membership while a refresh fails', async () => {
    const p = createPermissions(access, resolve, { ttlMs: 0 });
    assert.equal(await p.isOperator('U0ALICE'), true);
    const before = lookups();
    slack.fault({ method: 'usergroups.users.list', status: 429, retryAfter: 30, times: 3 });
    for (let i = 0; i < 3; i++) assert.equal(await p.isOperator('U0ALICE'), true, `check ${i + 1}`);
    await waitFor('the refreshes to be tried', () => lookups() >= before + 1);
    // A refresh that succeeds replaces it: removal from the group takes effect.
    slack.userGroups.set('S0OPS', []);
    await waitFor('the removal to be seen', async () => !(await p.isOperator('U0ALICE')));
    slack.userGroups.set('S0OPS', ['U0ALICE']);
  });

  it('never holds a decision longer than the deadline, whatever Slack does', async () => {
    let answer: ((members: string[]) => void) | undefined;
    const hanging: GroupResolver = () => new Promise((r) => (answer = r));
    const p = createPermissions(access, hanging, { deadlineMs: 50 });
    // Resolves at all only because of the deadline: the lookup never answers in this test until below.
    assert.equal(await p.isOperator('U0ALICE'), false);
    // Many groups that never answer cost one deadline together, not one each: every lookup starts at once.
    const started: string[] = [];
    const many = createPermissions(
      {
        operators: [],
        approvers: [],
        viewers: ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'],
      } as unknown as MeshConfig['access'],
      (g) => {
        started.push(g);
        return new Promise(() => {});
      },
      { deadlineMs: 50 },
    );
    const viewer = many.isViewer('U0X');
    assert.equal(started.length, 6, 'every lookup started before waiting on any');
    assert.equal(await viewer, false);
    answer!(['U0ALICE']);
    await waitFor('the late answer to be used', () => p.isOperator('U0ALICE'));
  });
});
