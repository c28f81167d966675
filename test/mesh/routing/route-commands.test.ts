import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseEnv } from '../../../src/config/env.ts';
import { ConfigError, parseConfig } from '../../../src/config/load.ts';
import { createProducer } from '../../../src/queue/producer.ts';
import { type Meshops, startMeshops } from '../../../src/runtime.ts';
import { BOT_TOKEN, SIGNING_SECRET, unreachableKubeconfig } from '../../helpers/harness.ts';
import { REDIS_URL } from '../../helpers/redis.ts';
import { waitFor } from '../../helpers/wait.ts';
import { ALICE, BOB, blocksText, DAVE, presetSpec, startWorld, type World } from './world.ts';

const envFor = (apiUrl: string, prefix: string, role: 'all' | 'worker' = 'all') =>
  parseEnv(
    {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: apiUrl,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'error',
    },
    role,
  );

describe('/mesh route list, show and diff, warn-mode pre-flight, and a second worker', () => {
  let w: World;
  before(async () => {
    w = await startWorld('route-cmds', { preflight: 'warn' });
  });
  after(() => w.close());
  beforeEach(() => w.sim.faults.reset());

  it('lists every preset in plain words and the one the live state matches', async () => {
    await w.h.command('route list', { user: 'U0CAROL', channel: 'C0LIST' });
    const parent = await w.h.waitForVerdict('C0LIST', '/mesh route list');
    assert.match(parent.text, /\*info\*: 7 presets; live routes on icp match all-v1/);
    const reply = blocksText(w.h.thread('C0LIST', parent.ts)[0]!);
    assert.match(
      reply,
      /\*all-v1\* :white_check_mark: _live_\\n {4}productpage: everyone → v1\\n {4}reviews: everyone → v1/,
    );
    assert.match(reply, /\*reviews-jason-v2-v3\* — reviews: end-user jason → v2, everyone else → v3/);
    assert.match(reply, /\*reviews-50-v3\* — reviews: 50% v1, 50% v3/);

    // reviews-90-10 holds only reviews, so it is the preset that matches now.
    await w.editVs('icp', 'reviews', presetSpec('reviews-90-10'));
    await w.h.command('route list', { user: 'U0CAROL', channel: 'C0LIST2' });
    assert.match(
      (await w.h.waitForVerdict('C0LIST2', '/mesh route list')).text,
      /live routes on icp match reviews-90-10 \(/,
    );
    const edited = presetSpec('reviews-v3');
    await w.editVs('icp', 'reviews', { ...edited, http: [{ ...edited.http![0]!, timeout: '3s' }] });
    await w.h.command('route list', { user: 'U0CAROL', channel: 'C0LIST3' });
    assert.match(
      (await w.h.waitForVerdict('C0LIST3', '/mesh route list')).text,
      /live routes on icp match no preset/,
    );
  });

  it('shows the live routes, one VirtualService, or the existing ones for an unknown name', async () => {
    await w.editVs('icp', 'reviews', presetSpec('reviews-test-v2'));
    await w.h.command('route show', { user: 'U0CAROL', channel: 'C0SHOW' });
    const all = await w.h.waitForVerdict('C0SHOW', '/mesh route show');
    assert.match(all.text, /\*info\*: 4 VirtualServices on icp/);
    const reply = blocksText(w.h.thread('C0SHOW', all.ts)[0]!);
    assert.match(reply, /reviews: end-user jason → v2, everyone else → v1/);
    assert.match(reply, /details: everyone → v1/);

    await w.h.command('route show reviews', { user: 'U0CAROL', channel: 'C0SHOW1' });
    assert.match(
      (await w.h.waitForVerdict('C0SHOW1', '/mesh route show reviews')).text,
      /\*info\*: reviews: end-user jason → v2, everyone else → v1/,
    );
    await w.h.command('route show nosuch', { user: 'U0CAROL', channel: 'C0SHOW2' });
    assert.match(
      (await w.h.waitForVerdict('C0SHOW2', '/mesh route show nosuch')).text,
      /no VirtualService "nosuch"; existing: details, productpage, ratings, reviews/,
    );
  });

  it('diffs the live routes against a preset, and says when they already match', async () => {
    await w.h.command('route diff reviews-jason-v2-v3', { user: 'U0CAROL', channel: 'C0DIFF' });
    const parent = await w.h.waitForVerdict('C0DIFF', '/mesh route diff reviews-jason-v2-v3');
    assert.match(parent.text, /reviews-jason-v2-v3 would change 1 VirtualService on icp \(\+9 −1\)/);
    const reply = blocksText(w.h.thread('C0DIFF', parent.ts)[0]!);
    assert.match(reply, /\*reviews\*: everyone → v1 {2}⇒ {2}end-user jason → v2, everyone else → v3/);
    assert.match(reply, /\+ {2}- match:\\n\+ {6}- headers:\\n\+ {10}end-user:\\n\+ {12}exact: jason/);

    await w.h.command('route diff all-v1', { user: 'U0CAROL', channel: 'C0DIFF2' });
    assert.match(
      (await w.h.waitForVerdict('C0DIFF2', '/mesh route diff all-v1')).text,
      /already match all-v1/,
    );
  });

  it('with routing.preflight warn, requests despite a failed check and shows it to the approvers', async () => {
    await w.sim.faults.refuseConnections('iks');
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0WARN' });
    const approval = await w.approval('C0WARN');
    const text = blocksText(approval.message);
    assert.match(text, /:x: reviews v3: no ready pods in any cluster/);
    assert.match(text, /:warning: routing\.preflight is warn: requested although 1 check failed/);
    await w.reject('C0WARN', BOB);
    await waitFor('the rejection', () => /Rejected\*/.test(w.message('C0WARN', approval.ts).text));
  });

  it("shows the decision on the command's parent, not the wait for an approver", async () => {
    await w.h.command('route apply reviews-jason-v2-v3', { user: ALICE, channel: 'C0PARENT' });
    const parent = await w.h.waitForVerdict('C0PARENT', '/mesh route apply reviews-jason-v2-v3');
    assert.match(parent.text, /waiting for an approver/);
    await w.approve('C0PARENT', BOB);
    const decided = await waitFor('the parent updated', () => {
      const m = w.message('C0PARENT', parent.ts);
      return /\*applied\*/.test(m.text) ? m : undefined;
    });
    assert.match(
      decided.text,
      /requested by <@U0ALICE> — :white_check_mark: \*applied\*: approved by <@U0BOB> at <!date\^/,
    );
    assert.doesNotMatch(blocksText(decided), /waiting for an approver/);

    await w.h.command('route rollback', { user: ALICE, channel: 'C0PARENT2' });
    const rollback = await w.h.waitForVerdict('C0PARENT2', '/mesh route rollback');
    await w.reject('C0PARENT2', BOB);
    await waitFor('the rollback parent updated', () =>
      /:no_entry_sign: \*rejected\* by <@U0BOB> at/.test(w.message('C0PARENT2', rollback.ts).text),
    );
  });

  it('applies once with a second worker on the queue and the same approval job run three times', async () => {
    const second: Meshops = await startMeshops({
      role: 'worker',
      env: envFor(w.h.slack.url, w.h.prefix, 'worker'),
      config: w.h.meshops.config,
      host: '127.0.0.1',
    });
    const producer = createProducer(REDIS_URL, w.h.prefix);
    const icp = new URL(w.sim.clusters.get('icp')!.url).origin;
    const writes: string[] = [];
    const onRequest = (message: unknown) => {
      const { request } = message as { request: { origin: string; method: string; path: string } };
      if (String(request.origin) === icp && request.method !== 'GET')
        writes.push(`${request.method} ${request.path}`);
    };
    subscribe('undici:request:create', onRequest);
    try {
      await w.h.command('route apply reviews-v2-v3', { user: ALICE, channel: 'C0TWO' });
      const { ts, id } = await w.approval('C0TWO');
      const job = {
        type: 'action' as const,
        action: 'mesh.approve',
        value: id,
        user: DAVE,
        channel: 'C0TWO',
        messageTs: ts,
        actionTs: '1.000001',
        requestedAt: Date.now(),
      };
      // The same click delivered again as a retried job would be, next to a real second click.
      await Promise.all([
        producer.enqueue(job, { writes: true, jobId: 'retry-a' }),
        producer.enqueue(job, { writes: true, jobId: 'retry-b' }),
        producer.enqueue(job, { writes: true, jobId: 'retry-c' }),
        w.h.click({ user: BOB, channel: 'C0TWO', messageTs: ts, actionId: 'mesh.approve', value: id }),
      ]);
      await waitFor('the apply', () => /Applied\* at/.test(w.message('C0TWO', ts).text));
      await waitFor(
        'every loser told',
        () => [...w.ephemerals('C0TWO', BOB), ...w.ephemerals('C0TWO', DAVE)].length === 3,
      );
    } finally {
      unsubscribe('undici:request:create', onRequest);
      await producer.close();
      await second.stop();
    }
    assert.deepEqual(writes, [
      'PUT /apis/networking.istio.io/v1alpha3/namespaces/default/virtualservices/reviews',
    ]);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-v2-v3'));
  });
});

describe('presets at start-up', () => {
  it('refuses to start with an invalid preset file, naming file, document and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-badpreset-'));
    const presets = join(dir, 'presets');
    mkdirSync(presets);
    writeFileSync(
      join(presets, 'canary.yaml'),
      `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
    - route:
        - destination: {host: ratings, subset: v1}
          weight: 90
        - destination: {host: ratings, subset: v2}
          wieght: 10
`,
    );
    unreachableKubeconfig(dir, 'icp');
    const config = parseConfig(
      'clusters:\n  - {name: icp, role: primary, kubeconfig: ./icp.kubeconfig}\nrouting:\n  presets: ./presets\n',
      join(dir, 'meshops.yaml'),
      dir,
    );
    await assert.rejects(
      startMeshops({ role: 'all', env: envFor('http://127.0.0.1:9/api/', 'mtest-badpreset'), config }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems, [
          `${join(presets, 'canary.yaml')}: document 2 of 2 (ratings): spec.http[0].route[1].wieght: unknown field (did you mean "weight"?); allowed here: destination, headers, weight`,
        ]);
        return true;
      },
    );
  });
});
