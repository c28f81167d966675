import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  ALICE,
  auditEntry,
  BOB,
  blocksText,
  CAROL,
  DAVE,
  presetSpec,
  startWorld,
  type World,
} from '../mesh/routing/world.ts';

const writes = (lines: readonly string[]) => lines.filter((l) => !l.startsWith('GET '));

describe('/mesh route apply behind approval, against the simulated clusters', () => {
  let w: World;
  const redis = new Redis(REDIS_URL);
  before(async () => {
    w = await startWorld('route-flow');
  });
  after(async () => {
    await w.close();
    redis.disconnect();
  });
  beforeEach(async () => {
    await w.sim.faults.reset();
  });
  afterEach(async () => {
    // Whatever a test did, every request it made ended: no lock may be left behind.
    assert.deepEqual(await redis.keys(`${w.h.prefix}:lock:*`), []);
  });

  it('applies exactly the preset’s spec to the primary after a second person approves, writing nothing to the remote', async () => {
    const vsRef = {
      group: 'networking.istio.io',
      version: 'v1alpha3',
      namespace: 'default',
      plural: 'virtualservices',
      name: 'reviews',
    };
    // Labels someone set on the live object must survive: meshops replaces the spec only.
    const labelled = (await w.kube('icp').getNamespacedCustomObject(vsRef)) as {
      metadata: Record<string, unknown>;
    };
    await w.kube('icp').replaceNamespacedCustomObject({
      ...vsRef,
      body: { ...labelled, metadata: { ...labelled.metadata, labels: { team: 'bookinfo' } } },
    });
    const before = await w.vs('icp', 'reviews');
    assert.deepEqual(before?.spec, presetSpec('all-v1'));
    const remoteBefore = writes(w.requestsTo('iks')).length;

    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0APPLY' });
    const parent = await w.h.waitForVerdict('C0APPLY', '/mesh route apply reviews-v3');
    assert.match(parent.text, /\*info\*: approval requested \(ap-[0-9a-f]+\)/);
    const reply = w.h.thread('C0APPLY', parent.ts)[0]!;
    assert.match(blocksText(reply), /waits for approval by someone in access\.approvers other than you/);

    const approval = await w.approval('C0APPLY');
    const text = blocksText(approval.message);
    assert.match(text, /Approval needed: Route apply reviews-v3/);
    assert.match(text, /Requested by\* <@U0ALICE>/);
    assert.match(text, /\*reviews\*: everyone → v1 {2}⇒ {2}everyone → v3/);
    assert.match(text, /- {10}subset: v1\\n\+ {10}subset: v3/);
    assert.match(
      text,
      /:white_check_mark: reviews v3: none on icp; 1 of 1 pod ready on iks \(VPN tunnel to iks up\)/,
    );
    assert.match(text, /\*Lock\* held on VirtualService default\/reviews on icp until/);
    assert.match(text, /"action_id":"mesh\.reject"/);
    // Nothing is written before the approval.
    assert.deepEqual((await w.vs('icp', 'reviews'))?.resourceVersion, before?.resourceVersion);

    await w.approve('C0APPLY', BOB);
    await waitFor('the approval message to say applied', () =>
      /Applied\* at/.test(w.message('C0APPLY', approval.ts).text),
    );
    const after = await w.vs('icp', 'reviews');
    assert.deepEqual(after?.spec, presetSpec('reviews-v3'));
    assert.notEqual(after?.resourceVersion, before?.resourceVersion);
    const stored = (await w.kube('icp').getNamespacedCustomObject(vsRef)) as {
      metadata: { labels?: object };
    };
    assert.deepEqual(stored.metadata.labels, { team: 'bookinfo' });
    const done = w.message('C0APPLY', approval.ts);
    assert.match(done.text, /requested by <@U0ALICE>, approved by <@U0BOB>, applied by meshops/);
    assert.doesNotMatch(blocksText(done), /mesh\.approve/, 'the buttons are gone');
    const result = await waitFor(
      'the result in the approval thread',
      () => w.h.thread('C0APPLY', approval.ts)[0],
    );
    assert.match(blocksText(result), /default\/reviews: resourceVersion \d+ → \d+/);

    assert.deepEqual(
      writes(w.requestsTo('iks')).slice(remoteBefore),
      [],
      'nothing was sent to the remote but reads',
    );
    assert.deepEqual(await w.vs('iks', 'reviews'), undefined);
    for (const action of ['requested', 'approved', 'applied'] as const)
      await auditEntry(w, { action, request: approval.id });
    const applied = await auditEntry(w, { action: 'applied', request: approval.id });
    assert.equal(applied.who, BOB);
    assert.match(applied.diff ?? '', /\+ {10}subset: v3/);
  });

  it('refuses self-approval and a non-approver, each told why, and keeps the request open', async () => {
    await w.h.command('route apply reviews-50-v3', { user: ALICE, channel: 'C0FOUR' });
    const { ts, id } = await w.approval('C0FOUR');
    await w.approve('C0FOUR', ALICE);
    await w.approve('C0FOUR', CAROL);
    const [self] = await waitFor(
      'the four-eyes refusal',
      () => w.ephemerals('C0FOUR', ALICE).length > 0 && w.ephemerals('C0FOUR', ALICE),
    );
    assert.match(
      self!,
      /Four eyes: you requested "Route apply reviews-50-v3", so someone else in access\.approvers must approve it/,
    );
    const [other] = await waitFor(
      'the non-approver refusal',
      () => w.ephemerals('C0FOUR', CAROL).length > 0 && w.ephemerals('C0FOUR', CAROL),
    );
    assert.match(other!, /Only approvers \(access\.approvers\) may approve/);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    assert.match(blocksText(w.message('C0FOUR', ts)), /mesh\.approve/, 'still open for a real approver');
    await auditEntry(w, { action: 'refused', who: ALICE, request: id });
    await auditEntry(w, { action: 'refused', who: CAROL, request: id });

    // A member of an approver user group may decide; here they reject.
    await w.reject('C0FOUR', DAVE);
    await waitFor('the rejection', () => /Rejected\* by <@U0DAVE>/.test(w.message('C0FOUR', ts).text));
    assert.doesNotMatch(blocksText(w.message('C0FOUR', ts)), /mesh\.approve/);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    await auditEntry(w, { action: 'rejected', who: DAVE, request: id });
    // A click after the decision is refused with what happened.
    await w.h.click({ user: BOB, channel: 'C0FOUR', messageTs: ts, actionId: 'mesh.approve', value: id });
    const [late] = await waitFor(
      'the late click refusal',
      () => w.ephemerals('C0FOUR', BOB).length > 0 && w.ephemerals('C0FOUR', BOB),
    );
    assert.match(late!, /it was already rejected by <@U0DAVE>/);
  });

  it('refuses a request from a non-operator before anything is queued, and audits it', async () => {
    const res = await w.h.command('route apply reviews-v3', { user: CAROL, channel: 'C0NONOP' });
    assert.match(JSON.parse(res.body).text, /may be requested only by operators/);
    assert.deepEqual(w.h.parents('C0NONOP'), []);
    const entry = await auditEntry(w, { action: 'refused', who: CAROL, kind: 'command' });
    assert.equal(entry.subject, '/mesh route apply reviews-v3');
  });

  it('lists the available presets for an unknown one', async () => {
    const res = await w.h.command('route apply reviews-v9', { user: ALICE, channel: 'C0UNKNOWN' });
    assert.match(
      JSON.parse(res.body).text,
      /unknown preset "reviews-v9"; available: all-v1, reviews-50-v3, reviews-90-10, reviews-jason-v2-v3, reviews-test-v2, reviews-v2-v3, reviews-v3/,
    );
    assert.deepEqual(w.h.parents('C0UNKNOWN'), []);
  });

  it('applies once when two approvers click at once and one clicks twice', async () => {
    await w.h.command('route apply reviews-jason-v2-v3', { user: ALICE, channel: 'C0RACE' });
    const { ts, id } = await w.approval('C0RACE');
    const icp = new URL(w.sim.clusters.get('icp')!.url).origin;
    const puts: string[] = [];
    const onRequest = (message: unknown) => {
      const { request } = message as { request: { origin: string; method: string; path: string } };
      if (String(request.origin) === icp && request.method !== 'GET')
        puts.push(`${request.method} ${request.path}`);
    };
    subscribe('undici:request:create', onRequest);
    try {
      await Promise.all([
        w.h.click({ user: BOB, channel: 'C0RACE', messageTs: ts, actionId: 'mesh.approve', value: id }),
        w.h.click({ user: DAVE, channel: 'C0RACE', messageTs: ts, actionId: 'mesh.approve', value: id }),
        w.h.click({ user: BOB, channel: 'C0RACE', messageTs: ts, actionId: 'mesh.approve', value: id }),
      ]);
      await waitFor('the apply', () => /Applied\* at/.test(w.message('C0RACE', ts).text));
      const refusals = await waitFor('the losers told', () => {
        const all = [...w.ephemerals('C0RACE', BOB), ...w.ephemerals('C0RACE', DAVE)];
        return all.length >= 1 && all;
      });
      for (const r of refusals) assert.match(r, /already approved by <@U0(BOB|DAVE)>/);
    } finally {
      unsubscribe('undici:request:create', onRequest);
    }
    assert.deepEqual(puts, [
      'PUT /apis/networking.istio.io/v1alpha3/namespaces/default/virtualservices/reviews',
    ]);
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-jason-v2-v3'));
    // The audit entry follows the thread reply, which waits for the channel's posting budget.
    const entries = await waitFor('the audit entry of the apply', async () => {
      const all = (await w.audit()).filter((e) => e.request === id);
      return all.some((e) => e.action === 'applied') && all;
    });
    assert.equal(entries.filter((e) => e.action === 'applied').length, 1);
    assert.equal(entries.filter((e) => e.action === 'approved').length, 1);
  });

  it('refuses to apply when the live VirtualService changed after the request', async () => {
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0MOVED' });
    const { ts, id } = await w.approval('C0MOVED');
    await w.editVs('icp', 'reviews', presetSpec('reviews-90-10'));
    await w.approve('C0MOVED', BOB);
    await waitFor('the refusal', () => /Not applied\*/.test(w.message('C0MOVED', ts).text));
    const text = w.message('C0MOVED', ts).text;
    assert.match(
      text,
      /the live VirtualService default\/reviews \(resourceVersion \d+ → \d+\) changed since the request/,
    );
    assert.match(text, /<@U0ALICE>, please request it again/);
    assert.deepEqual(
      (await w.vs('icp', 'reviews'))?.spec,
      presetSpec('reviews-90-10'),
      'the other change stays',
    );
    await auditEntry(w, { action: 'refused', who: BOB, request: id });
  });

  it('reports a 409 on replace with a fresh plan and overwrites nothing', async () => {
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0CONFLICT' });
    const { ts, id } = await w.approval('C0CONFLICT');
    const icp = w.sim.clusters.get('icp')!;
    let raced = false;
    // Someone writes reviews in the instant between meshops' re-check and its PUT.
    const onRequest = (message: unknown) => {
      const { request } = message as { request: { origin: string; method: string; path: string } };
      if (raced || request.method !== 'PUT' || String(request.origin) !== new URL(icp.url).origin) return;
      raced = true;
      const current = icp.state.get('virtualservices', 'default', 'reviews', 'networking.istio.io')!;
      icp.state.put(
        'virtualservices',
        { ...current, spec: presetSpec('reviews-v2-v3') },
        'networking.istio.io',
      );
    };
    subscribe('undici:request:create', onRequest);
    try {
      await w.approve('C0CONFLICT', BOB);
      await waitFor('the failure', () => /Failed\*/.test(w.message('C0CONFLICT', ts).text));
    } finally {
      unsubscribe('undici:request:create', onRequest);
    }
    assert.ok(raced);
    assert.match(
      w.message('C0CONFLICT', ts).text,
      /409 Conflict on default\/reviews: it was changed by someone else while applying; it was not overwritten/,
    );
    const reply = await waitFor('the thread reply', () => w.h.thread('C0CONFLICT', ts)[0]);
    assert.match(blocksText(reply), /Nothing was written/);
    assert.match(blocksText(reply), /Against the live state now, the change would be:/);
    assert.match(
      blocksText(reply),
      /\+\+\+ reviews-v3 default\/reviews\\n@@ -5,8 \+5,3 @@\\n {7}- destination:\\n {11}host: reviews\\n- {10}subset: v2\\n- {8}weight: 50/,
    );
    assert.deepEqual(
      (await w.vs('icp', 'reviews'))?.spec,
      presetSpec('reviews-v2-v3'),
      'the other write stands',
    );
    await auditEntry(w, { action: 'failed', request: id });
  });

  it('refuses a second request for a locked VirtualService, naming who holds it and until when', async () => {
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0LOCK' });
    const first = await w.approval('C0LOCK');
    await w.h.command('route apply reviews-90-10', { user: 'U0ERIN', channel: 'C0LOCK' });
    const second = await w.h.waitForVerdict('C0LOCK', '/mesh route apply reviews-90-10');
    assert.match(
      second.text,
      /\*failed\*: not requested: VirtualService default\/reviews on icp is locked by <@U0ALICE>'s request "Route apply reviews-v3" \(ap-[0-9a-f]+\), waiting for approval until <!date\^\d+/,
    );
    assert.equal(w.h.parents('C0LOCK').filter((m) => blocksText(m).includes('mesh.approve')).length, 1);
    await auditEntry(w, { action: 'refused', who: 'U0ERIN', subject: 'reviews-90-10' });
    await w.reject('C0LOCK', BOB);
    await waitFor('the rejection', () => /Rejected\*/.test(w.message('C0LOCK', first.ts).text));
  });

  it('blocks the request when reviews v3 has no reachable cluster, saying which', async () => {
    await w.sim.faults.refuseConnections('iks');
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0PREFLIGHT' });
    const parent = await w.h.waitForVerdict('C0PREFLIGHT', '/mesh route apply reviews-v3');
    assert.match(
      parent.text,
      /\*failed\*: not requested: pre-flight failed \(reviews v3: no ready pods in any cluster/,
    );
    const reply = blocksText(w.h.thread('C0PREFLIGHT', parent.ts)[0]!);
    assert.match(reply, /iks could not be asked \(connection refused\)/);
    assert.match(reply, /routing\.preflight is block/);
    assert.equal(w.h.parents('C0PREFLIGHT').length, 1, 'no approval message');
    await auditEntry(w, { action: 'refused', who: ALICE, subject: 'reviews-v3' });
  });

  it('blocks the request when the remote running reviews v3 has no reviews Service', async () => {
    await w.core('iks').deleteNamespacedService({ name: 'reviews', namespace: 'default' });
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0NOSVC' });
    const parent = await w.h.waitForVerdict('C0NOSVC', '/mesh route apply reviews-v3');
    assert.match(
      parent.text,
      /not requested: pre-flight failed \(reviews v3: none on icp; 1 of 1 pod ready on iks, but iks has no Service reviews in default, through which pilot discovers its pods there: its traffic would fail\)/,
    );
    assert.equal(w.h.parents('C0NOSVC').length, 1, 'no approval message');
  });

  it('blocks the request when the primary has no remote secret for the remote running reviews v3', async () => {
    await w.core('icp').deleteNamespacedSecret({ name: 'iriscluster', namespace: 'istio-system' });
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0NOSECRET' });
    const parent = await w.h.waitForVerdict('C0NOSECRET', '/mesh route apply reviews-v3');
    assert.match(
      parent.text,
      /pre-flight failed \(reviews v3: none on icp; 1 of 1 pod ready on iks, but icp has no remote secret for iks \(looked for "iriscluster" in istio-system\), so pilot knows no endpoints there: its traffic would fail\)/,
    );
  });

  it("blocks a route whose DestinationRule's TLS mode does not fit the mesh's mutual TLS", async () => {
    // An operator turns mutual TLS on mesh-wide the 1.0 way still honoured without a MeshPolicy (MeshConfig's
    // deprecated authPolicy); the reviews rule switches it off.
    await requireMtlsInMeshConfig();
    await setReviewsTlsMode('DISABLE');
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0TLS' });
    const parent = await w.h.waitForVerdict('C0TLS', '/mesh route apply reviews-v3');
    assert.match(
      parent.text,
      /pre-flight failed \(reviews v3: DestinationRule reviews sets tls\.mode DISABLE, but the mesh requires mutual TLS \(no MeshPolicy default; authPolicy: MUTUAL_TLS in ConfigMap istio-system\/istio on icp\): the sidecars would refuse these requests; set tls\.mode ISTIO_MUTUAL/,
    );
  });

  /** The seed's reviews DestinationRule with its traffic policy's TLS mode set, everything else as it was. */
  async function setReviewsTlsMode(mode: string): Promise<void> {
    const dr = {
      group: 'networking.istio.io',
      version: 'v1alpha3',
      namespace: 'default',
      plural: 'destinationrules',
      name: 'reviews',
    };
    const live = (await w.kube('icp').getNamespacedCustomObject(dr)) as { spec: Record<string, unknown> };
    await w.kube('icp').replaceNamespacedCustomObject({
      ...dr,
      body: { ...live, spec: { ...live.spec, trafficPolicy: { tls: { mode } } } },
    });
  }

  /** The seed's mesh config with MeshConfig's authPolicy set to MUTUAL_TLS, everything else as rendered. */
  async function requireMtlsInMeshConfig(): Promise<void> {
    const name = { name: 'istio', namespace: 'istio-system' };
    const cm = await w.core('icp').readNamespacedConfigMap(name);
    await w.core('icp').replaceNamespacedConfigMap({
      ...name,
      body: { ...cm, data: { ...cm.data, mesh: `${cm.data?.mesh ?? ''}\nauthPolicy: MUTUAL_TLS` } },
    });
  }

  // The MeshPolicy istio/istio 1.0.2 renders with global.mtls.enabled (istio-demo-auth.yaml):
  // install/kubernetes/helm/istio/charts/security/templates/enable-mesh-mtls.yaml.
  const meshPolicy = (mtls: Record<string, string>) =>
    w.kube('icp').createClusterCustomObject({
      group: 'authentication.istio.io',
      version: 'v1alpha1',
      plural: 'meshpolicies',
      body: {
        apiVersion: 'authentication.istio.io/v1alpha1',
        kind: 'MeshPolicy',
        metadata: {
          name: 'default',
          labels: { app: 'istio-security', chart: 'security-1.0.2', release: 'istio', heritage: 'Tiller' },
        },
        spec: { peers: [{ mtls }] },
      },
    });

  it('blocks a route to a subset without ISTIO_MUTUAL when the MeshPolicy default makes mutual TLS strict', async () => {
    await meshPolicy({});
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0STRICT' });
    const parent = await w.h.waitForVerdict('C0STRICT', '/mesh route apply reviews-v3');
    assert.match(
      parent.text,
      /pre-flight failed \(reviews v3: DestinationRule reviews sets no tls\.mode, but the mesh requires mutual TLS \(MeshPolicy default on icp\): the sidecars would refuse these requests; set tls\.mode ISTIO_MUTUAL\)/,
    );
    assert.equal(w.h.parents('C0STRICT').length, 1, 'no approval message');
  });

  it('blocks ISTIO_MUTUAL where mutual TLS is off, and follows a Policy that turns it on for the service', async () => {
    // The seed's own mesh config, as istio-demo.yaml renders it: no authPolicy, no MeshPolicy.
    const seedMesh = (
      await w.core('icp').readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' })
    ).data?.mesh;
    assert.match(seedMesh ?? '', /mixerCheckServer: istio-policy\.istio-system\.svc\.cluster\.local:9091/);
    assert.doesNotMatch(seedMesh ?? '', /authPolicy/);
    await setReviewsTlsMode('ISTIO_MUTUAL');
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0MTLSOFF' });
    const parent = await w.h.waitForVerdict('C0MTLSOFF', '/mesh route apply reviews-v3');
    assert.match(
      parent.text,
      /pre-flight failed \(reviews v3: DestinationRule reviews sets tls\.mode ISTIO_MUTUAL, but mutual TLS is off for reviews \(no MeshPolicy default; authPolicy: NONE in ConfigMap istio-system\/istio on icp\)/,
    );

    await w.kube('icp').createNamespacedCustomObject({
      group: 'authentication.istio.io',
      version: 'v1alpha1',
      namespace: 'default',
      plural: 'policies',
      body: {
        apiVersion: 'authentication.istio.io/v1alpha1',
        kind: 'Policy',
        metadata: { name: 'reviews-mtls', namespace: 'default' },
        spec: { targets: [{ name: 'reviews' }], peers: [{ mtls: {} }] },
      },
    });
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0MTLSPOLICY' });
    const request = await w.approval('C0MTLSPOLICY');
    assert.doesNotMatch(blocksText(request.message), /mutual TLS/);
    await w.reject('C0MTLSPOLICY', BOB);
    await waitFor('the rejection', () => /Rejected\*/.test(w.message('C0MTLSPOLICY', request.ts).text));
  });

  it('a PERMISSIVE MeshPolicy default accepts either mode, whatever the mesh config says', async () => {
    await requireMtlsInMeshConfig();
    await meshPolicy({ mode: 'PERMISSIVE' });
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0PERMISSIVE' });
    const request = await w.approval('C0PERMISSIVE');
    assert.doesNotMatch(blocksText(request.message), /mutual TLS/);
    await w.reject('C0PERMISSIVE', BOB);
    await waitFor('the rejection', () => /Rejected\*/.test(w.message('C0PERMISSIVE', request.ts).text));
  });

  it('blocks the request when the VPN tunnel to the only cluster running reviews v3 is down', async () => {
    w.sim.faults.setTunnel('icp', 'iks', 'down');
    await w.h.command('route apply reviews-jason-v2-v3', { user: ALICE, channel: 'C0TUNNEL' });
    const parent = await w.h.waitForVerdict('C0TUNNEL', '/mesh route apply reviews-jason-v2-v3');
    assert.match(
      parent.text,
      /not requested: pre-flight failed \(reviews v3: runs only on iks, and the VPN tunnel to iks is down \(icp side: k8s-conn\[\d+\] CONNECTING\): its traffic would fail\)/,
    );
    const reply = blocksText(w.h.thread('C0TUNNEL', parent.ts)[0]!);
    assert.match(reply, /:white_check_mark: reviews v2: 1 of 1 pod ready on icp/);
    assert.equal(w.h.parents('C0TUNNEL').length, 1, 'no approval message');
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
  });

  it('rolls back to the spec saved before the last applied change, through the same approval', async () => {
    await w.h.command('route apply reviews-50-v3', { user: ALICE, channel: 'C0ROLL' });
    await w.approve('C0ROLL', BOB);
    await waitFor(
      'the apply',
      async () => (await w.vs('icp', 'reviews'))?.spec.http?.[0]?.route?.length === 2,
    );
    await waitFor('locks released', async () => (await redis.keys(`${w.h.prefix}:lock:*`)).length === 0);

    await w.h.command('route rollback', { user: ALICE, channel: 'C0ROLLBACK' });
    const approval = await w.approval('C0ROLLBACK');
    assert.match(blocksText(approval.message), /Route rollback \(undo reviews-50-v3\)/);
    assert.match(blocksText(approval.message), /\*reviews\*: 50% v1, 50% v3 {2}⇒ {2}everyone → v1/);
    await w.approve('C0ROLLBACK', DAVE);
    await waitFor('the rollback', () => /Applied\* at/.test(w.message('C0ROLLBACK', approval.ts).text));
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    await auditEntry(w, { action: 'applied', subject: 'rollback', request: approval.id });

    const list = await w.h.command('audit 20', { user: CAROL, channel: 'C0AUDIT' });
    assert.equal(list.status, 200);
    const audit = await w.h.waitForVerdict('C0AUDIT', '/mesh audit 20');
    const lines = blocksText(w.h.thread('C0AUDIT', audit.ts)[0]!);
    assert.match(lines, /\*applied\* rollback by <@U0DAVE>/);
    assert.match(lines, /\*requested\* rollback by <@U0ALICE>/);
    assert.match(lines, /\*applied\* reviews-50-v3 by <@U0BOB>/);
  });

  it('creates a VirtualService that does not exist yet and deletes it on rollback, within the shipped RBAC', async () => {
    // The reviews routes removed as an admin would: the preset's VirtualService must be created.
    await w.kube('icp').deleteNamespacedCustomObject({
      group: 'networking.istio.io',
      version: 'v1alpha3',
      namespace: 'default',
      plural: 'virtualservices',
      name: 'reviews',
    });
    await w.h.command('route apply reviews-v3', { user: ALICE, channel: 'C0CREATE' });
    const approval = await w.approval('C0CREATE');
    await w.approve('C0CREATE', BOB);
    await waitFor('the apply', () => /Applied\* at/.test(w.message('C0CREATE', approval.ts).text));
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('reviews-v3'));
    assert.ok(w.requestsTo('icp').some((l) => l.startsWith('POST ') && l.includes('/virtualservices')));
    await waitFor('locks released', async () => (await redis.keys(`${w.h.prefix}:lock:*`)).length === 0);

    await w.h.command('route rollback', { user: ALICE, channel: 'C0UNCREATE' });
    const undo = await w.approval('C0UNCREATE');
    await w.approve('C0UNCREATE', DAVE);
    await waitFor('the rollback', () => /Applied\* at/.test(w.message('C0UNCREATE', undo.ts).text));
    assert.equal(await w.vs('icp', 'reviews'), undefined, 'the VirtualService the apply created is gone');
  });
});
