import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
};

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

/** Validates a manifest against the Kubernetes OpenAPI schema of its kind (kubernetes-models ships them). */
async function validate(m: Manifest): Promise<void> {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  const folder = group === '' ? version! : `${group}/${version}`;
  const mod = (await import(`kubernetes-models/${folder}/${m.kind}`)) as Record<
    string,
    new (
      o: unknown,
    ) => { validate(): void }
  >;
  const Model = mod[m.kind];
  assert.ok(Model, `no schema for ${m.apiVersion} ${m.kind}`);
  new Model(m).validate();
}

function docs(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

const render = (overlay: string) =>
  docs(execFileSync('kubectl', ['kustomize', `deploy/kubernetes/overlays/${overlay}`], { encoding: 'utf8' }));

describe('deploy/ manifests', () => {
  it('renders both overlays into schema-valid objects with the promised safety settings', {
    skip: !hasKubectl && 'kubectl not installed',
  }, async () => {
    const production = render('production');
    for (const m of production) await validate(m);
    const byName = new Map(production.map((m) => [`${m.kind}/${m.metadata.name}`, m]));
    const app = byName.get('Deployment/meshops-app') as unknown as {
      spec: {
        replicas: number;
        template: {
          spec: {
            securityContext: { runAsNonRoot: boolean };
            containers: {
              readinessProbe: { httpGet: { path: string } };
              livenessProbe: { httpGet: { path: string } };
              securityContext: { readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
              resources: { limits: unknown; requests: unknown };
            }[];
          };
        };
      };
    };
    assert.equal(app.spec.replicas, 2);
    const pod = app.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.containers[0]!.readinessProbe.httpGet.path, '/readyz');
    assert.equal(pod.containers[0]!.livenessProbe.httpGet.path, '/healthz');
    assert.equal(pod.containers[0]!.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(pod.containers[0]!.securityContext.capabilities.drop, ['ALL']);
    assert.ok(pod.containers[0]!.resources.limits && pod.containers[0]!.resources.requests);
    assert.ok(byName.has('PodDisruptionBudget/meshops-app'));
    assert.ok(byName.has('Deployment/meshops-worker'));
    assert.ok(byName.has('StatefulSet/meshops-redis'));

    const redis = byName.get('StatefulSet/meshops-redis') as unknown as {
      spec: {
        template: { spec: { containers: { args: string[]; resources: { limits: { memory: string } } }[] } };
      };
    };
    const args = redis.spec.template.spec.containers[0]!.args;
    assert.equal(args[args.indexOf('--maxmemory-policy') + 1], 'noeviction');
    const maxmemory = Number.parseInt(args[args.indexOf('--maxmemory') + 1]!, 10);
    const limit = Number.parseInt(redis.spec.template.spec.containers[0]!.resources.limits.memory, 10);
    assert.ok(maxmemory > 0 && maxmemory < limit, `maxmemory ${maxmemory}mb below the ${limit}Mi limit`);
    assert.equal(args[args.indexOf('--requirepass') + 1], '$(REDIS_PASSWORD)', 'Redis has a password');
    const appPod = JSON.stringify(byName.get('Deployment/meshops-app'));
    assert.ok(!appPod.includes('kubeconfigs'), 'the app pod mounts no cluster credentials');
    assert.ok(JSON.stringify(byName.get('Deployment/meshops-worker')).includes('kubeconfigs'));

    const sentinel = render('sentinel');
    for (const m of sentinel) await validate(m);
    const ha = new Map(sentinel.map((m) => [`${m.kind}/${m.metadata.name}`, m]));
    assert.equal(
      (ha.get('StatefulSet/meshops-redis') as unknown as { spec: { replicas: number } }).spec.replicas,
      3,
    );
    assert.equal(
      (ha.get('StatefulSet/meshops-sentinel') as unknown as { spec: { replicas: number } }).spec.replicas,
      3,
    );
    assert.ok(sentinel.every((m) => m.kind === 'Namespace' || m.metadata.namespace === 'meshops'));
    for (const name of ['meshops-app', 'meshops-worker']) {
      const env = JSON.stringify(ha.get(`Deployment/${name}`));
      assert.match(env, /"name":"REDIS_SENTINELS","value":"meshops-sentinel-0\.meshops-sentinel:26379,/);
      assert.match(env, /"name":"REDIS_SENTINEL_NAME","value":"meshops"/);
    }

    const external = render('external-redis');
    for (const m of external) await validate(m);
    assert.ok(
      !external.some((m) => m.kind === 'StatefulSet'),
      'the external-redis overlay drops the in-namespace Redis',
    );
  });

  it('keeps the RBAC for target clusters least-privilege and schema-valid', async () => {
    const rbac = ['common', 'primary', 'remote-repair'].flatMap((f) =>
      docs(readFileSync(`deploy/rbac/${f}.yaml`, 'utf8')),
    );
    for (const m of rbac) await validate(m);
    const rules = rbac.flatMap((m) =>
      (
        (m as { rules?: { resources: string[]; verbs: string[]; resourceNames?: string[] }[] }).rules ?? []
      ).map((r) => ({ ...r, role: m.metadata.name, ns: m.metadata.namespace })),
    );
    for (const r of rules) {
      assert.ok(!r.verbs.includes('*') && !r.resources.includes('*'), `${r.role} uses a wildcard`);
      if (r.resources.includes('secrets')) assert.deepEqual(r.verbs, ['get'], 'secrets: get only');
      if (r.resources.includes('secrets')) assert.ok(r.resourceNames?.length, 'secrets only by name');
    }
    const exec = rules.filter((r) => r.resources.includes('pods/exec'));
    assert.deepEqual(
      exec.map((r) => [r.ns, r.verbs.join(',')]),
      [['default', 'get,create']],
    );
    const writes = rules.filter(
      (r) =>
        r.verbs.some((v) => ['create', 'update', 'patch', 'delete'].includes(v)) &&
        !r.resources.includes('pods/exec'),
    );
    assert.ok(
      writes.every((r) => ['meshops-routing', 'meshops-repair', 'meshops-restart'].includes(r.role)),
      'only routing and repair roles write',
    );
  });
});

describe('deploy/grafana-dashboard.json', () => {
  it('queries only metrics meshops exports', async () => {
    const { registry } = await import('../../src/observability/metrics.ts');
    const dashboard = JSON.parse(readFileSync('deploy/grafana-dashboard.json', 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const names = new Set(
      dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/meshops_[a-z_]+/g) ?? [])),
    );
    assert.ok(names.size >= 9);
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    for (const name of names) {
      assert.ok(exported.has(name.replace(/_bucket$/, '')), `${name} is not exported`);
    }
  });
});
