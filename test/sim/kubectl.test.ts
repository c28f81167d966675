// The real kubectl against the simulation: what a user types must print what a cluster prints.
// Skipped (with a message) where kubectl is not installed.

import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { Json } from '../../src/sim/cluster/store.ts';
import { shippedRbac } from '../../src/sim/index.ts';
import { kubeConfig, podNamed, startTestMesh } from './helpers.ts';

function kubectlVersion(): string | undefined {
  try {
    return execFileSync('kubectl', ['version', '--client'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}
const version = kubectlVersion();
const installed = version !== undefined;
// WebSocket exec is kubectl's default from 1.30 (KEP-4006); older clients speak SPDY, not served here.
const clientMinor = Number(/Client Version: v1\.(\d+)/.exec(version ?? '')?.[1] ?? 0);
const websocketExec = clientMinor >= 30;

type TestMesh = Awaited<ReturnType<typeof startTestMesh>>;
let t: TestMesh;
let home: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl as an administrator; `kubectlAsMeshops` uses meshops' kubeconfig, under the shipped RBAC. */
function kubectl(cluster: string, ...args: string[]): Promise<Run> {
  return kubectlWith(t.mesh.adminKubeconfigPath(cluster), args);
}

function kubectlAsMeshops(cluster: string, ...args: string[]): Promise<Run> {
  return kubectlWith(t.mesh.kubeconfigPath(cluster), args);
}

function kubectlWith(kubeconfig: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      // A private HOME keeps kubectl's discovery cache per run.
      { env: { ...process.env, HOME: home, KUBECONFIG: '' }, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  if (!installed) return;
  // The shipped RBAC given explicitly: this file provokes a 403 on purpose, which the suite's record of
  // meshops' requests (test/deploy/rbac-usage.check.ts) must not count as a missing grant.
  t = await startTestMesh({ rbac: { icp: shippedRbac('primary'), iks: shippedRbac('remote') } });
  home = await mkdtemp(join(tmpdir(), 'meshops-kubectl-'));
});
after(async () => {
  if (!installed) return;
  await t.stop();
  await rm(home, { recursive: true, force: true });
});

const rows = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));

describe('kubectl 1.32 against the simulation', () => {
  it('get pods -A prints READY, STATUS and RESTARTS as for a real cluster', async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    const r = await kubectl('icp', 'get', 'pods', '-A');
    assert.equal(r.code, 0, r.stderr);
    const table = rows(r.stdout);
    assert.deepEqual(table[0], ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const row = (prefix: string) => table.find((cells) => cells[1]?.startsWith(prefix));
    assert.deepEqual(row('istio-pilot-')?.slice(2, 5), ['2/2', 'Running', '0']);
    assert.deepEqual(row('istio-cleanup-secrets-')?.slice(2, 4), ['0/1', 'Completed']);
    assert.deepEqual(
      row('reviews-v1-')
        ?.slice(0, 4)
        .filter((_, i) => i !== 1),
      ['default', '2/2', 'Running'],
    );
  });

  it('get virtualservices -A prints what the 1.0.2 CRD declares: no printer columns, so name and age', async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    const r = await kubectl('icp', 'get', 'virtualservices', '-A');
    assert.equal(r.code, 0, r.stderr);
    const table = rows(r.stdout);
    assert.deepEqual(table[0], ['NAMESPACE', 'NAME', 'AGE']);
    assert.deepEqual(table.find((c) => c[1] === 'reviews')?.slice(0, 2), ['default', 'reviews']);
  });

  it('apply --validate=false -f a bookinfo rule configures the VirtualService', async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    const file = fileURLToPath(
      new URL('../fixtures/sim/virtual-service-reviews-jason-v2-v3.yaml', import.meta.url),
    );
    const r = await kubectl('icp', 'apply', '--validate=false', '-f', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^virtualservice\.networking\.istio\.io\/reviews configured$/m);
    const custom = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.CustomObjectsApi);
    const vs = (await custom.getNamespacedCustomObject({
      group: 'networking.istio.io',
      version: 'v1alpha3',
      namespace: 'default',
      plural: 'virtualservices',
      name: 'reviews',
    })) as Json;
    assert.equal(vs.spec.http[0].match[0].headers['end-user'].exact, 'jason');
    assert.equal(vs.spec.http[1].route[0].destination.subset, 'v3');
    assert.ok(vs.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    const again = await kubectl('icp', 'apply', '--validate=false', '-f', file);
    assert.match(again.stdout, /reviews unchanged/);
  });

  it('exec -- ping over WebSocket, with the exit code of the command', async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    if (!websocketExec)
      return ctx.skip(`kubectl 1.${clientMinor} uses SPDY for exec; WebSocket exec needs 1.30+`);
    const coreIcp = kubeConfig(t.mesh, 'icp').makeApiClient(k8s.CoreV1Api);
    const coreIks = kubeConfig(t.mesh, 'iks').makeApiClient(k8s.CoreV1Api);
    const pilotIp = (await podNamed(coreIcp, 'istio-system', 'istio=pilot')).status!.podIP!;
    const vpn = (await podNamed(coreIks, 'default', 'app=strongswan,release=vpn')).metadata!.name!;
    const ok = await kubectl('iks', 'exec', vpn, '--', 'ping', '-c', '1', pilotIp);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      new RegExp(`64 bytes from ${pilotIp.replaceAll('.', '\\.')}: icmp_seq=1 ttl=62 time=`),
    );
    t.mesh.faults.setTunnel('icp', 'iks', 'down');
    const lost = await kubectl('iks', 'exec', vpn, '--', 'ping', '-c', '1', '-W', '1', pilotIp);
    assert.equal(lost.code, 1);
    assert.match(lost.stderr, /command terminated with exit code 1/);
    t.mesh.faults.setTunnel('icp', 'iks', 'up');
    const status = await kubectl('iks', 'exec', vpn, '--', 'ipsec', 'status');
    assert.match(status.stdout, /INSTALLED, TUNNEL/);
  });

  it("prints the apiserver's errors: NotFound, Forbidden, Unauthorized", async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    const missing = await kubectl('iks', 'exec', 'nope', '--', 'true');
    assert.match(missing.stderr, /Error from server \(NotFound\): pods "nope" not found/);
    const coreIks = kubeConfig(t.mesh, 'iks').makeApiClient(k8s.CoreV1Api);
    const vpn = (await podNamed(coreIks, 'default', 'app=strongswan,release=vpn')).metadata!.name!;
    t.mesh.faults.forbidExec('iks');
    const forbidden = await kubectl('iks', 'exec', vpn, '--', 'true');
    assert.match(
      forbidden.stderr,
      /Error from server \(Forbidden\): pods ".*" is forbidden: User ".*" cannot create resource "pods\/exec"/,
    );
    t.mesh.faults.forbidExec('iks', '*', false);
    const secrets = await kubectlAsMeshops('iks', 'get', 'secrets', '-n', 'istio-system');
    assert.match(
      secrets.stderr,
      /Error from server \(Forbidden\): secrets is forbidden: User "system:serviceaccount:meshops-access:meshops" cannot list resource "secrets" in API group "" in the namespace "istio-system"/,
    );
    t.mesh.faults.revokeToken('iks');
    const denied = await kubectlAsMeshops('iks', 'get', 'pods');
    assert.match(denied.stderr, /You must be logged in to the server/);
    t.mesh.faults.revokeToken('iks', false);
  });

  it('rollout restart replaces the pods of a deployment', async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    const before = await kubectl('iks', 'get', 'pods', '-l', 'app=reviews', '-o', 'name');
    const r = await kubectl('iks', 'rollout', 'restart', 'deployment/reviews-v3');
    assert.match(r.stdout, /deployment\.apps\/reviews-v3 restarted/);
    await t.mesh.settled();
    const after = await kubectl('iks', 'get', 'pods', '-l', 'app=reviews', '-o', 'name');
    assert.notEqual(after.stdout, before.stdout);
    assert.equal(after.stdout.trim().split('\n').length, 1);
  });

  it("scale sets a deployment's replicas through its scale subresource; meshops may not scale", async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    const r = await kubectl('iks', 'scale', 'deployment/reviews-v3', '--replicas=3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment\.apps\/reviews-v3 scaled/);
    await t.mesh.settled();
    const pods = await kubectl('iks', 'get', 'pods', '-l', 'app=reviews,version=v3', '-o', 'name');
    assert.equal(pods.stdout.trim().split('\n').length, 3);
    const scale = JSON.parse(
      (await kubectl('iks', 'get', '--raw', '/apis/apps/v1/namespaces/default/deployments/reviews-v3/scale'))
        .stdout,
    ) as Json;
    assert.equal(scale.apiVersion, 'autoscaling/v1');
    assert.deepEqual(scale.spec, { replicas: 3 });
    assert.equal(scale.status.selector, 'app=reviews,version=v3');
    const bad = await kubectl('iks', 'scale', 'deployment/reviews-v3', '--replicas=-1');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /replicas|greater than or equal to 0/);
    const denied = await kubectlAsMeshops('iks', 'scale', 'deployment/reviews-v3', '--replicas=1');
    assert.match(denied.stderr, /forbidden: .*cannot patch resource "deployments\/scale"|Forbidden/);
    assert.equal((await kubectl('iks', 'scale', 'deployment/reviews-v3', '--replicas=1')).code, 0);
    await t.mesh.settled();
  });

  it('get crd lists the CRDs a real primary holds; the remote has none; meshops may not list them', async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    const r = await kubectl('icp', 'get', 'crd');
    assert.equal(r.code, 0, r.stderr);
    const table = rows(r.stdout);
    assert.deepEqual(table[0], ['NAME', 'CREATED AT']);
    assert.equal(table.length, 1 + 50);
    const vs = table.find((cells) => cells[0] === 'virtualservices.networking.istio.io');
    assert.match(vs?.[1] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const remote = await kubectl('iks', 'get', 'crd');
    assert.equal(remote.code, 0, remote.stderr);
    assert.match(remote.stderr, /No resources found/);
    // deploy/rbac grants meshops nothing in apiextensions.k8s.io, as on a real cluster.
    const meshops = await kubectlAsMeshops('icp', 'get', 'crd');
    assert.match(
      meshops.stderr,
      /Error from server \(Forbidden\): customresourcedefinitions\.apiextensions\.k8s\.io is forbidden: User "system:serviceaccount:meshops-access:meshops" cannot list resource "customresourcedefinitions" in API group "apiextensions\.k8s\.io" at the cluster scope/,
    );
  });

  it('get crd virtualservices.networking.istio.io -o yaml prints the v1 object with its status', async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    const r = await kubectl('icp', 'get', 'crd', 'virtualservices.networking.istio.io', '-o', 'yaml');
    assert.equal(r.code, 0, r.stderr);
    const crd = parse(r.stdout) as Json;
    assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.deepEqual(crd.spec.versions, [{ name: 'v1alpha3', served: true, storage: true }]);
    assert.equal(crd.status.acceptedNames.kind, 'VirtualService');
    assert.deepEqual(
      (crd.status.conditions as Json[]).map((c) => `${c.type}=${c.status}`),
      ['NamesAccepted=True', 'Established=True', 'NonStructuralSchema=True'],
    );
    assert.deepEqual(crd.status.storedVersions, ['v1alpha3']);
  });

  it('rollout status follows a rolling update through its watch until it is rolled out', async (ctx) => {
    if (!installed) return ctx.skip('kubectl not installed');
    await kubeConfig(t.mesh, 'icp')
      .makeApiClient(k8s.CoreV1Api)
      .createNamespace({ body: { metadata: { name: 'web' } } });
    const manifest = join(home, 'web.yaml');
    await writeFile(
      manifest,
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'web' },
        spec: {
          replicas: 4,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
          },
        },
      }),
    );
    assert.equal((await kubectl('icp', 'apply', '--validate=false', '-f', manifest)).code, 0);
    await t.mesh.settled();
    // The new pods stay unready until the test lets them: the rollout is mid-way while kubectl watches.
    t.mesh.faults.failReadinessOfNewPods('icp', 'web', 'app=web');
    assert.equal((await kubectl('icp', 'rollout', 'restart', 'deployment/web', '-n', 'web')).code, 0);
    await t.mesh.settled();
    const status = spawn(
      'kubectl',
      ['--kubeconfig', t.mesh.adminKubeconfigPath('icp'), 'rollout', 'status', 'deployment/web', '-n', 'web'],
      { env: { ...process.env, HOME: home, KUBECONFIG: '' } },
    );
    let stdout = '';
    let stderr = '';
    status.stderr.on('data', (c) => (stderr += c));
    const waiting = new Promise<void>((resolve) =>
      status.stdout.on('data', (c) => {
        stdout += c;
        if (stdout.includes('Waiting for deployment')) resolve();
      }),
    );
    const exited = new Promise<number>((resolve) => status.on('close', (code) => resolve(code ?? 1)));
    await waiting;
    const icp = t.mesh.clusters.get('icp')!.state;
    icp.switches.failingReadiness = [];
    t.mesh.faults.setContainerReady('icp', 'web', { labelSelector: 'app=web' }, true);
    assert.equal(await exited, 0, stderr);
    assert.match(
      stdout,
      /^Waiting for deployment "web" rollout to finish: 2 out of 4 new replicas have been updated\.\.\.$/m,
    );
    assert.match(stdout, /^deployment "web" successfully rolled out$/m);
  });
});
