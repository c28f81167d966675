// RBAC in the simulated API servers: the rules as Kubernetes applies them, and the answers a real
// kube-apiserver gives (403 Status bodies, exec's get and create), with meshops' token.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { type PolicyRule, RbacPolicy, ruleAllows } from '../../src/sim/api/rbac.ts';
import { shippedRbac } from '../../src/sim/index.ts';
import { execIn, kubeConfig, podNamed, raw, startTestMesh } from './helpers.ts';

const SA = {
  user: 'system:serviceaccount:meshops-access:meshops',
  groups: ['system:serviceaccounts', 'system:authenticated'],
};
const attrs = (verb: string, resource: string, more: Record<string, string> = {}) => ({
  verb,
  group: '',
  resource,
  ...more,
});

describe('RBAC rules (pure)', () => {
  const rule = (r: Partial<PolicyRule>): PolicyRule => ({
    apiGroups: [''],
    resources: ['pods'],
    verbs: ['get'],
    ...r,
  });

  it('get, list and watch are separate verbs; * is every verb', () => {
    assert.equal(ruleAllows(rule({ verbs: ['list'] }), attrs('list', 'pods')), true);
    assert.equal(ruleAllows(rule({ verbs: ['list'] }), attrs('get', 'pods')), false);
    assert.equal(ruleAllows(rule({ verbs: ['list'] }), attrs('watch', 'pods')), false);
    assert.equal(ruleAllows(rule({ verbs: ['*'] }), attrs('deletecollection', 'pods')), true);
  });

  it('a subresource needs its own grant: pods does not cover pods/exec; */exec does', () => {
    const exec = attrs('create', 'pods', { subresource: 'exec' });
    assert.equal(ruleAllows(rule({ verbs: ['create'] }), exec), false);
    assert.equal(ruleAllows(rule({ resources: ['pods/exec'], verbs: ['create'] }), exec), true);
    assert.equal(ruleAllows(rule({ resources: ['*/exec'], verbs: ['create'] }), exec), true);
    assert.equal(
      ruleAllows(rule({ resources: ['*/exec'], verbs: ['create'] }), attrs('create', 'pods')),
      false,
    );
  });

  it('apiGroups must match: core is "", a VirtualService is networking.istio.io', () => {
    const vs = { verb: 'get', group: 'networking.istio.io', resource: 'virtualservices' };
    assert.equal(ruleAllows(rule({ resources: ['virtualservices'] }), vs), false);
    assert.equal(
      ruleAllows(rule({ apiGroups: ['networking.istio.io'], resources: ['virtualservices'] }), vs),
      true,
    );
    assert.equal(ruleAllows(rule({ apiGroups: ['*'], resources: ['virtualservices'] }), vs), true);
  });

  it('resourceNames allow only the named objects, never a list or create without a name', () => {
    const named = rule({
      resources: ['secrets'],
      verbs: ['get', 'list', 'create'],
      resourceNames: ['iriscluster'],
    });
    assert.equal(ruleAllows(named, attrs('get', 'secrets', { name: 'iriscluster' })), true);
    assert.equal(ruleAllows(named, attrs('get', 'secrets', { name: 'iks' })), false);
    assert.equal(ruleAllows(named, attrs('list', 'secrets')), false);
    assert.equal(ruleAllows(named, attrs('create', 'secrets')), false);
  });

  it('a Role applies in its binding namespace; a ClusterRole through a RoleBinding only there', () => {
    const policy = RbacPolicy.fromYaml([
      `kind: ClusterRole
metadata: { name: reader }
rules: [{ apiGroups: [""], resources: [services], verbs: [get] }]
---
kind: RoleBinding
metadata: { name: reader, namespace: istio-system }
roleRef: { kind: ClusterRole, name: reader }
subjects: [{ kind: ServiceAccount, name: meshops, namespace: meshops-access }]
---
kind: Role
metadata: { name: exec, namespace: default }
rules: [{ apiGroups: [""], resources: [pods/exec], verbs: [create] }]
---
kind: RoleBinding
metadata: { name: exec, namespace: default }
roleRef: { kind: Role, name: exec }
subjects: [{ kind: Group, name: system:serviceaccounts }]
`,
    ]);
    assert.equal(policy.allows(SA, attrs('get', 'services', { namespace: 'istio-system' })), true);
    assert.equal(policy.allows(SA, attrs('get', 'services', { namespace: 'default' })), false);
    assert.equal(policy.allows(SA, attrs('get', 'services')), false, 'nor at the cluster scope');
    const exec = (namespace: string) => attrs('create', 'pods', { subresource: 'exec', namespace });
    assert.equal(policy.allows(SA, exec('default')), true, 'bound to a group the token is in');
    assert.equal(policy.allows(SA, exec('istio-system')), false);
    const other = { user: 'system:serviceaccount:x:y', groups: ['system:authenticated'] };
    assert.equal(policy.allows(other, exec('default')), false);
  });
});

describe('RBAC in the simulated API server, with meshops token and the shipped deploy/rbac', () => {
  let t: Awaited<ReturnType<typeof startTestMesh>>;
  before(async () => {
    // The shipped files given explicitly: these 403s are provoked on purpose, not requests meshops needs
    // (test/deploy/rbac-usage.check.ts counts only sims that run the shipped files by default).
    t = await startTestMesh({ rbac: { icp: shippedRbac('primary'), iks: shippedRbac('remote') } });
  });
  after(() => t.stop());
  const asMeshops = (cluster: string) => ({ token: t.mesh.clusters.get(cluster)!.token });

  it('answers 403 with the Status body a real apiserver sends, naming user, verb, resource and scope', async () => {
    const list = await raw(t.mesh, 'icp', 'GET', '/api/v1/namespaces/istio-system/secrets', asMeshops('icp'));
    assert.equal(list.status, 403);
    assert.deepEqual(JSON.parse(list.body), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'secrets is forbidden: User "system:serviceaccount:meshops-access:meshops" cannot list resource "secrets" in API group "" in the namespace "istio-system"',
      reason: 'Forbidden',
      details: { kind: 'secrets' },
      code: 403,
    });
    const named = await raw(
      t.mesh,
      'icp',
      'GET',
      '/api/v1/namespaces/istio-system/secrets/istio-ca-secret',
      asMeshops('icp'),
    );
    assert.equal(
      JSON.parse(named.body).message,
      'secrets "istio-ca-secret" is forbidden: User "system:serviceaccount:meshops-access:meshops" cannot get resource "secrets" in API group "" in the namespace "istio-system"',
    );
    const nodes = await raw(t.mesh, 'icp', 'GET', '/apis/apps/v1/replicasets', asMeshops('icp'));
    assert.equal(
      JSON.parse(nodes.body).message,
      'replicasets.apps is forbidden: User "system:serviceaccount:meshops-access:meshops" cannot list resource "replicasets" in API group "apps" at the cluster scope',
    );
    assert.deepEqual(JSON.parse(nodes.body).details, { group: 'apps', kind: 'replicasets' });
  });

  it('forbids before looking: a missing object it may not read is 403, not 404', async () => {
    const res = await raw(
      t.mesh,
      'icp',
      'GET',
      '/api/v1/namespaces/istio-system/secrets/nope',
      asMeshops('icp'),
    );
    assert.equal(res.status, 403);
    const allowed = await raw(
      t.mesh,
      'icp',
      'GET',
      '/api/v1/namespaces/istio-system/secrets/iriscluster',
      asMeshops('icp'),
    );
    assert.equal(allowed.status, 200);
  });

  it('discovery and /version are open to every authenticated token', async () => {
    for (const path of ['/version', '/api', '/apis', '/api/v1', '/apis/networking.istio.io/v1alpha3']) {
      assert.equal((await raw(t.mesh, 'icp', 'GET', path, asMeshops('icp'))).status, 200, path);
    }
  });

  it('exec needs create on pods/exec, and get too for the WebSocket upgrade', async () => {
    const admin = kubeConfig(t.mesh, 'iks');
    const core = admin.makeApiClient(k8s.CoreV1Api);
    const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
    const vpn = (await podNamed(core, 'default', 'app=strongswan,release=vpn')).metadata!.name!;
    const meshops = new k8s.KubeConfig();
    meshops.loadFromFile(t.mesh.kubeconfigPath('iks'));
    const run = () => execIn(meshops, 'default', vpn, 'strongswan', ['true']);
    assert.equal((await run()).exitCode, 0, 'the shipped meshops-probe Role grants both');

    const only = async (verbs: string[]) => {
      await rbac.replaceNamespacedRole({
        name: 'meshops-probe',
        namespace: 'default',
        body: {
          metadata: { name: 'meshops-probe', namespace: 'default' },
          rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs }],
        },
      });
    };
    // client-node reports a refused upgrade as an error event whose message carries the status.
    const refused = (e: unknown) =>
      /Unexpected server response: 403/.test(String((e as { message?: string }).message));
    await only(['create']);
    await assert.rejects(run(), refused);
    await only(['get']);
    await assert.rejects(run(), refused);
    // The SPDY fallback is a POST: create alone is asked, and the answer is the same 403 Status kubectl prints.
    const post = await raw(
      t.mesh,
      'iks',
      'POST',
      `/api/v1/namespaces/default/pods/${vpn}/exec?command=true&container=strongswan&stdout=true`,
      asMeshops('iks'),
    );
    assert.equal(post.status, 403);
    assert.match(
      JSON.parse(post.body).message,
      /cannot create resource "pods\/exec" in API group "" in the namespace "default"/,
    );
    await t.mesh.faults.reset();
    assert.equal((await run()).exitCode, 0, 'reset restores the shipped RBAC');
  });

  it('a list narrowed to one name by fieldSelector is allowed by resourceNames', async () => {
    const res = await raw(
      t.mesh,
      'icp',
      'GET',
      `/api/v1/namespaces/istio-system/secrets?fieldSelector=${encodeURIComponent('metadata.name=iriscluster')}`,
      asMeshops('icp'),
    );
    assert.equal(res.status, 403, 'the shipped Role grants get only');
    const admin = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.RbacAuthorizationV1Api);
    await admin.createNamespacedRole({
      namespace: 'istio-system',
      body: {
        metadata: { name: 'list-one', namespace: 'istio-system' },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'], resourceNames: ['iriscluster'] }],
      },
    });
    await admin.createNamespacedRoleBinding({
      namespace: 'istio-system',
      body: {
        metadata: { name: 'list-one', namespace: 'istio-system' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'list-one' },
        subjects: [{ kind: 'ServiceAccount', name: 'meshops', namespace: 'meshops-access' }],
      },
    });
    const narrowed = await raw(
      t.mesh,
      'icp',
      'GET',
      `/api/v1/namespaces/istio-system/secrets?fieldSelector=${encodeURIComponent('metadata.name=iriscluster')}`,
      asMeshops('icp'),
    );
    assert.equal(narrowed.status, 200);
    const all = await raw(t.mesh, 'icp', 'GET', '/api/v1/namespaces/istio-system/secrets', asMeshops('icp'));
    assert.equal(all.status, 403);
    await t.mesh.faults.reset();
  });
});
