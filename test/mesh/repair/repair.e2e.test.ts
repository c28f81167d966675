import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../../helpers/redis.ts';
import { waitFor } from '../../helpers/wait.ts';
import { ALICE, BOB, CAROL, startWorld, text, type World } from './world.ts';

/**
 * `/mesh repair drift` as people use it, against the simulated seed mesh (Istio 1.0 on icp, istio-remote
 * on iks): pilot restarts, the remote is repaired behind approval, its pods restarted behind a second one.
 */
describe('/mesh repair drift on Istio 1.0, end to end', () => {
  let w: World;
  const redis = new Redis(REDIS_URL);
  before(async () => {
    w = await startWorld('repair');
  });
  after(async () => {
    await w.close();
    redis.disconnect();
  });
  beforeEach(() => w.sim.faults.reset());
  afterEach(async () => {
    // Every request a test made has ended (applied, refused, rejected): no lock may be left behind.
    await waitFor('every lock released', async () => (await redis.keys(`${w.h.prefix}:lock:*`)).length === 0);
  });

  async function status(channel: string) {
    await w.h.command('status iks', { user: CAROL, channel });
    return w.h.waitForVerdict(channel, '/mesh status iks', 30_000);
  }

  it('pilot restart → drift → plan → approval → live IPs on iks → pods restarted → healthy', async () => {
    const [moved] = await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const oldIp = moved!.before.ip!;
    const newIp = moved!.after!.ip!;
    assert.match((await status('C0DRIFT')).text, /\*degraded\*: iks: .*pilot .* \(drift\)/);
    const before = await w.meshConfig();
    const pod = (
      await w.kube('iks').core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=reviews' })
    ).items[0]!.metadata!.name!;

    // The plan: the two places iks holds pilot's address, each with its reason, nothing else.
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0REPAIR' });
    const parent = await w.h.waitForVerdict('C0REPAIR', '/mesh repair drift iks', 30_000);
    assert.match(parent.text, /\*info\*: iks: repair waits for approval \(ap-[0-9a-f]+\)/);
    const plan = await w.approval('C0REPAIR');
    const shown = text(plan.message);
    assert.match(shown, /Approval needed: Repair drift on iks/);
    assert.match(shown, /Requested by\* <@U0ALICE>/);
    const reason = `pilot restarted on icp: ${oldIp} → ${newIp}`;
    assert.ok(shown.includes(`@@ mesh: defaultConfig.discoveryAddress · ${reason}`), shown);
    assert.ok(
      shown.includes(`-  discoveryAddress: ${oldIp}:15007\\n+  discoveryAddress: ${newIp}:15007`),
      shown,
    );
    assert.ok(shown.includes(`@@ subsets[0].addresses[0].ip · ${reason}`), shown);
    assert.ok(shown.includes(`-  - ip: ${oldIp}\\n+  - ip: ${newIp}`), shown);
    for (const untouched of ['mixerCheckServer', 'mixerReportServer', 'zipkinAddress', 'statsdUdpAddress'])
      assert.doesNotMatch(shown, new RegExp(`@@ mesh: [a-zA-Z.]*${untouched}`));
    assert.match(
      shown,
      new RegExp(`1 injected pod on iks keeps the old addresses until restarted \\(default/${pod}\\)`),
    );
    assert.match(shown, /\*Lock\* held on the control-plane addresses of iks/);
    // The same repair as chart values, and why a helm upgrade with the old ones would undo it.
    assert.ok(shown.includes(`\`--set global.remotePilotAddress=${newIp}\``), shown);
    assert.match(
      shown,
      /a helm upgrade of the istio-remote chart on iks with the old values undoes this repair/,
    );
    assert.equal(
      (await w.meshConfig()).resourceVersion,
      before.resourceVersion,
      'nothing written before approval',
    );

    // Four eyes: the requester cannot approve; another approver can.
    await w.approve('C0REPAIR', plan, ALICE);
    await waitFor('the four-eyes refusal', () =>
      w.h.slack.messages.some((m) => m.ephemeralFor === ALICE && /Four eyes/.test(m.text)),
    );
    await w.approve('C0REPAIR', plan);
    await waitFor('the repair applied', () => /Applied\* at/.test(w.message('C0REPAIR', plan.ts).text));
    // The command's parent follows the decision: it no longer says the repair waits for approval.
    const decided = await waitFor('the parent showing the decision', () => {
      const m = w.message('C0REPAIR', parent.ts);
      return /\*applied\*/.test(m.text) && m;
    });
    assert.match(
      decided.text,
      new RegExp(
        `requested by <@U0ALICE> — :white_check_mark: \\*applied\\*: approved by <@U0BOB> at <!date\\^\\d+.* \\(${plan.id}\\)$`,
      ),
    );
    assert.doesNotMatch(text(decided), /waits for approval/);
    const after = await w.meshConfig();
    assert.equal(
      after.mesh,
      before.mesh.replace(`discoveryAddress: ${oldIp}:15007`, `discoveryAddress: ${newIp}:15007`),
      'only the discovery address changed, comments and layout kept',
    );
    assert.deepEqual(await w.pilotEndpoints(), [newIp]);
    const written = await w.reply('C0REPAIR', plan.ts, /resourceVersion \d+ → \d+/);
    assert.match(
      text(written),
      new RegExp(`defaultConfig.discoveryAddress: \`${oldIp}:15007\` → \`${newIp}:15007\``),
    );

    // Verification: iks is still degraded because reviews-v3 was injected with the old address; the
    // restart of its Deployment is offered as a second approval.
    const verified = await w.reply('C0REPAIR', plan.ts, /iks after the repair/, 30_000);
    const v = text(verified);
    assert.match(v, /still degraded/);
    assert.match(v, /VPN iks → icp\*: healthy/);
    assert.ok(
      v.includes(`default/${pod}\` (Deployment reviews-v3): istio-proxy --discoveryAddress ${oldIp}:15007`),
      v,
    );
    assert.match(
      v,
      /A rolling restart of `default\/reviews-v3`, one at a time, waits for approval: request `ap-/,
    );
    const restart = await w.approval('C0REPAIR', 2);
    assert.match(text(restart.message), /Approval needed: Rolling restart on iks/);
    assert.match(text(restart.message), /Requested by\* <@U0ALICE>/);
    assert.doesNotMatch(text(restart.message), /vpn-strongswan/);

    await w.approve('C0REPAIR', restart);
    await waitFor(
      'the restart applied',
      () => /Applied\* at/.test(w.message('C0REPAIR', restart.ts).text),
      30_000,
    );
    const pods = (
      await w.kube('iks').core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=reviews' })
    ).items;
    assert.equal(pods.length, 1);
    assert.notEqual(pods[0]!.metadata!.name, pod, 'reviews-v3 runs a new pod');
    assert.ok(
      pods[0]!.spec!.containers.find((c) => c.name === 'istio-proxy')!.args!.includes(`${newIp}:15007`),
    );
    const progress = await w.reply(
      'C0REPAIR',
      restart.ts,
      /Rolling restart on iks: 1 of 1 Deployments ready/,
    );
    assert.match(text(progress), /`default\/reviews-v3` ready/);
    const healthy = await w.reply('C0REPAIR', restart.ts, /iks after the restart/, 30_000);
    assert.match(text(healthy), /iks after the restart\*: healthy/);
    // The restart was asked for in the repair's thread, not by the command: its parent keeps the repair's decision.
    assert.equal(w.message('C0REPAIR', parent.ts).text, decided.text);
    assert.match((await status('C0HEALTHY')).text, /\*healthy\*/);

    const entries = await w.audit();
    for (const [kind, action] of [
      ['drift-repair', 'requested'],
      ['drift-repair', 'approved'],
      ['drift-repair', 'applied'],
      ['drift-restart', 'requested'],
      ['drift-restart', 'applied'],
    ] as const)
      assert.ok(
        entries.some((e) => e.kind === kind && e.action === action && e.subject === 'iks'),
        `${kind} ${action}`,
      );
    assert.equal(entries.find((e) => e.kind === 'drift-repair' && e.action === 'applied')?.who, BOB);
  });

  it("shows a rejection or a withdrawal on the command's parent, not the wait for an approver", async () => {
    await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0REJECT' });
    const rejected = await w.h.waitForVerdict('C0REJECT', '/mesh repair drift iks', 30_000);
    assert.match(rejected.text, /waits for approval/);
    const first = await w.approval('C0REJECT');
    await w.reject('C0REJECT', first);
    const afterReject = await waitFor('the parent showing the rejection', () => {
      const m = w.message('C0REJECT', rejected.ts);
      return /rejected/.test(m.text) && m;
    });
    assert.match(
      afterReject.text,
      new RegExp(`— :no_entry_sign: \\*rejected\\* by <@U0BOB> at <!date\\^\\d+.* \\(${first.id}\\)$`),
    );
    assert.doesNotMatch(text(afterReject), /waits for approval/);

    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0WITHDRAWN' });
    const withdrawn = await w.h.waitForVerdict('C0WITHDRAWN', '/mesh repair drift iks', 30_000);
    const second = await w.approval('C0WITHDRAWN');
    await w.h.click({
      user: ALICE,
      channel: 'C0WITHDRAWN',
      messageTs: second.ts,
      actionId: 'mesh.withdraw',
      value: second.id,
    });
    const afterWithdraw = await waitFor('the parent showing the withdrawal', () => {
      const m = w.message('C0WITHDRAWN', withdrawn.ts);
      return /withdrawn/.test(m.text) && m;
    });
    assert.match(
      afterWithdraw.text,
      new RegExp(`— :leftwards_arrow_with_hook: \\*withdrawn\\* by <@U0ALICE> at .* \\(${second.id}\\)$`),
    );
  });

  it('refuses while a drifted component is rolling out, and says why', async () => {
    const [moved] = await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    // The new pilot is not Ready yet (a rollout in progress): pointing iks at it may pin a pod about to go.
    w.sim.faults.setContainerReady('icp', 'istio-system', moved!.after!.name, false, {
      container: 'discovery',
    });
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0ROLLING' });
    const parent = await w.h.waitForVerdict('C0ROLLING', '/mesh repair drift iks', 30_000);
    const said = `${parent.text} ${w.h.thread('C0ROLLING', parent.ts).map(text).join(' ')}`;
    assert.match(
      said,
      /the repair waits until every drifted component has finished its rollout with all pods Ready: 0 of 1 pilot pods Ready on icp/,
    );
    assert.match(said, /Run \/mesh repair drift iks again once the rollout has finished/);
    assert.equal(w.h.parents('C0ROLLING').length, 1, 'no approval message');
  });

  it('refuses during a Deployment rollout to a pilot that never gets Ready, with the rollout as its Deployment reports it', async () => {
    // pilot moved: the remote still names the old pod's IP.
    await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    // Then someone rolls pilot out (`kubectl rollout restart`) to pods whose readiness probe keeps failing.
    w.sim.faults.failReadinessOfNewPods('icp', 'istio-system', 'istio=pilot', { container: 'discovery' });
    const { apps, core } = w.kube('icp');
    await apps.patchNamespacedDeployment(
      {
        name: 'istio-pilot',
        namespace: 'istio-system',
        body: {
          spec: {
            template: {
              metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // The Deployment controller surges one new pod (maxSurge 25% of 1, rounded up) and keeps the old one
    // (maxUnavailable 25% of 1, rounded down: 0) until the new one is available.
    const deployment = await waitFor('the new pilot pod started, not Ready', async () => {
      const pods = await core.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'istio=pilot' });
      const running = pods.items.filter((p) => p.status?.phase === 'Running');
      if (running.length !== 2) return undefined;
      const d = await apps.readNamespacedDeployment({ name: 'istio-pilot', namespace: 'istio-system' });
      return d.status?.updatedReplicas === 1 && d.status.replicas === 2 && d;
    });
    assert.equal(deployment.status?.availableReplicas, 1, 'only the old pod is available');
    assert.equal(deployment.status?.readyReplicas, 1);
    assert.equal(deployment.status?.unavailableReplicas, 1);

    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0ROLLOUT' });
    const parent = await w.h.waitForVerdict('C0ROLLOUT', '/mesh repair drift iks', 30_000);
    const said = `${parent.text} ${w.h.thread('C0ROLLOUT', parent.ts).map(text).join(' ')}`;
    assert.match(said, /the repair waits until every drifted component has finished its rollout/);
    assert.match(said, /pilot on icp: Deployment istio-pilot is rolling out \(1 old pod still running\)/);
    assert.equal(w.h.parents('C0ROLLOUT').length, 1, 'no approval message');
  });

  it('nothing to repair: says so, asks nobody to approve', async () => {
    await w.h.command('repair drift', { user: ALICE, channel: 'C0CLEAN' });
    const parent = await w.h.waitForVerdict('C0CLEAN', '/mesh repair drift', 30_000);
    assert.match(parent.text, /\*healthy\*: iks: nothing to repair/);
    const reply = w.h.thread('C0CLEAN', parent.ts).map(text).join('\n');
    assert.match(reply, /iks\* points at the live control plane on icp: nothing to repair/);
    assert.deepEqual(w.approvals('C0CLEAN'), []);
  });

  it('a primary or unknown name, or a remote that cannot be read: a specific answer, nothing requested', async () => {
    const res = await w.h.command('repair drift icp', { user: ALICE, channel: 'C0BAD' });
    assert.match(JSON.parse(res.body).text, /unknown remote cluster "icp"; configured: iks/);
    assert.deepEqual(w.h.parents('C0BAD'), []);

    await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    w.sim.faults.revokeToken('iks');
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0DENIED' });
    const parent = await w.h.waitForVerdict('C0DENIED', '/mesh repair drift iks', 30_000);
    assert.match(
      parent.text,
      /\*failed\*: iks: iks could not be read: 401 Unauthorized: the token was rejected/,
    );
    assert.deepEqual(w.approvals('C0DENIED'), []);
  });

  it('refuses a non-operator before anything is planned', async () => {
    const res = await w.h.command('repair drift iks', { user: CAROL, channel: 'C0CAROL' });
    assert.match(JSON.parse(res.body).text, /operators/);
    assert.deepEqual(w.h.parents('C0CAROL'), []);
  });

  it('a write meeting a change made meanwhile gets a 409: nothing is overwritten, the repair is re-planned', async () => {
    await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0RACE' });
    const first = await w.approval('C0RACE');
    // Someone edits the ConfigMap after meshops re-checked it, just as meshops sends its write.
    const state = w.sim.clusters.get('iks')!.state;
    let edited = false;
    const onRequest = (message: unknown) => {
      const { request } = message as { request: { method: string; path: string } };
      if (edited || request.method !== 'PUT' || !request.path.endsWith('/configmaps/istio')) return;
      edited = true;
      const cm = structuredClone(state.get('configmaps', 'istio-system', 'istio')!);
      cm.metadata.labels = { ...cm.metadata.labels, edited: 'by-hand' };
      state.put('configmaps', cm);
    };
    subscribe('undici:request:create', onRequest);
    try {
      await w.approve('C0RACE', first);
      await waitFor('the failure', () => /Failed\*/.test(w.message('C0RACE', first.ts).text));
    } finally {
      unsubscribe('undici:request:create', onRequest);
    }
    assert.match(
      w.message('C0RACE', first.ts).text,
      /409 Conflict on ConfigMap istio-system\/istio: it changed on iks while applying; it was not overwritten/,
    );
    const cm = await w.kube('iks').core.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' });
    assert.equal(cm.metadata?.labels?.edited, 'by-hand');
    await w.reply('C0RACE', first.ts, /Nothing was written\..*meshops re-plans against the live state now/s);

    const second = await w.approval('C0RACE', 2);
    assert.ok(text(second.message).includes(`(resourceVersion ${cm.metadata?.resourceVersion})`));
    await w.approve('C0RACE', second);
    await waitFor('the re-planned repair applied', () =>
      /Applied\* at/.test(w.message('C0RACE', second.ts).text),
    );
    const repaired = await w
      .kube('iks')
      .core.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' });
    assert.equal(repaired.metadata?.labels?.edited, 'by-hand', 'the other change is kept');
    await w.reply('C0RACE', second.ts, /iks after the repair/, 30_000);
    const restart = await w.approval('C0RACE', 3);
    await w.reject('C0RACE', restart);
    await waitFor('the rejection', () => /Rejected\*/.test(w.message('C0RACE', restart.ts).text));
  });

  it('a plan gone stale (pilot restarted again before approval) is refused and re-planned', async () => {
    const [moved] = await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const planned = moved!.after!.ip!;
    await w.h.command('repair drift iks', { user: ALICE, channel: 'C0STALE' });
    const first = await w.approval('C0STALE');
    const before = await w.meshConfig();
    const [again] = await w.sim.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
    const latest = again!.after!.ip!;

    await w.approve('C0STALE', first);
    await waitFor('the refusal', () => /Not applied\*/.test(w.message('C0STALE', first.ts).text));
    assert.ok(
      w
        .message('C0STALE', first.ts)
        .text.includes(
          `the live control plane moved since the plan: pilot is now at ${latest}, not ${planned}. `,
        ),
      w.message('C0STALE', first.ts).text,
    );
    assert.equal((await w.meshConfig()).mesh, before.mesh, 'nothing was written');
    // The message says what happens next: a new plan, not a request the requester would have to make.
    const refused = w.message('C0STALE', first.ts).text;
    assert.match(refused, /meshops re-plans against the live state now/);
    assert.doesNotMatch(refused, /request it again/);
    const reply = text(await w.reply('C0STALE', first.ts, /meshops re-plans against the live state now/));
    assert.doesNotMatch(reply, /request it again/);
    const note = await w.reply('C0STALE', first.ts, /Re-planned against the live state of iks/);
    const second = await w.approval('C0STALE', 2);
    assert.ok(text(note).includes(second.id));
    assert.ok(text(second.message).includes(`+  discoveryAddress: ${latest}:15007`));
    // The re-planned request is still the requester's: no self-approval through the re-plan.
    assert.match(text(second.message), /Requested by\* <@U0ALICE>/);
    await w.approve('C0STALE', second, ALICE);
    await waitFor('the four-eyes refusal', () =>
      w.h.slack.messages.some(
        (m) => m.ephemeralFor === ALICE && /Four eyes: you requested "Repair drift on iks"/.test(m.text),
      ),
    );

    await w.approve('C0STALE', second);
    await waitFor('the re-planned repair applied', () =>
      /Applied\* at/.test(w.message('C0STALE', second.ts).text),
    );
    assert.match(
      (await w.meshConfig()).mesh,
      new RegExp(`discoveryAddress: ${latest.replace(/\./g, '\\.')}:15007`),
    );
    assert.deepEqual(await w.pilotEndpoints(), [latest]);
    // The restart step it offers is left unapproved: reject it so the remote's lock is released.
    await w.reply('C0STALE', second.ts, /iks after the repair/, 30_000);
    const restart = await w.approval('C0STALE', 3);
    await w.reject('C0STALE', restart);
    await waitFor('the rejection', () => /Rejected\*/.test(w.message('C0STALE', restart.ts).text));
  });
});
