import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { shutdownGrace } from '../../src/runtime.ts';

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
          metadata: { annotations: Record<string, string> };
          spec: {
            securityContext: { runAsNonRoot: boolean };
            containers: {
              ports: { name: string; containerPort: number }[];
              env: { name: string; value: string }[];
              readinessProbe: { httpGet: { path: string; port: string } };
              livenessProbe: { httpGet: { path: string; port: string } };
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
    // /readyz and /metrics are probed and scraped on the ops port, never on the public Slack port.
    const worker = byName.get('Deployment/meshops-worker') as unknown as typeof app;
    for (const d of [app, worker]) {
      const c = d.spec.template.spec.containers[0]!;
      const ops = c.ports.find((p) => p.name === 'ops')?.containerPort;
      assert.equal(ops, 9464);
      assert.equal(c.env.find((e) => e.name === 'OPS_PORT')?.value, String(ops));
      assert.equal(c.readinessProbe.httpGet.port, 'ops');
      assert.equal(d.spec.template.metadata.annotations['prometheus.io/port'], String(ops));
    }
    const service = byName.get('Service/meshops-app') as unknown as {
      spec: { ports: { targetPort: string }[] };
    };
    assert.deepEqual(
      service.spec.ports.map((p) => p.targetPort),
      ['http'],
      'the public Service reaches PORT only',
    );
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

  it('gives a worker time to finish the longest job before Kubernetes kills it', () => {
    const jobs = { timeout: 60_000, concurrency: 8 }; // the defaults
    const grace = shutdownGrace({ jobs });
    // A drift restart may use three quarters of jobs.timeout (45 s) and still has to post its outcome.
    assert.ok(grace >= jobs.timeout, `grace ${grace} ms covers a whole job`);
    const worker = docs(readFileSync('deploy/kubernetes/base/worker.yaml', 'utf8')).find(
      (m) => m.kind === 'Deployment',
    ) as unknown as { spec: { template: { spec: { terminationGracePeriodSeconds: number } } } };
    assert.ok(
      worker.spec.template.spec.terminationGracePeriodSeconds * 1000 > grace,
      'the pod is not killed before the grace ends',
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
    // Exec: pings, ipsec and /mesh certs in the probe/injected namespace; pilot's /debug/syncz in istio-system.
    const exec = rules.filter((r) => r.resources.includes('pods/exec'));
    assert.deepEqual(
      exec.map((r) => [r.ns, r.verbs.join(',')]),
      [
        ['default', 'get,create'],
        ['istio-system', 'get,create'],
      ],
    );
    const proxied = rules.filter((r) => r.resources.includes('services/proxy'));
    assert.ok(
      proxied.every((r) => r.verbs.join() === 'get' && r.resourceNames?.length),
      'service proxy: get by name',
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

/**
 * Who may read a file the kubelet writes into a Secret or ConfigMap volume (kubernetes.io "Configure a
 * Security Context for a Pod": volume ownership; pkg/volume SetVolumeOwnership): the file belongs to root,
 * its group is the pod's fsGroup (root without one), its mode is the item's or the volume's defaultMode
 * (0644 when unset), and with an fsGroup the kubelet adds owner and group read (0440). The container's
 * process runs as runAsUser with runAsGroup, fsGroup and supplementalGroups as its groups.
 */
function canRead(pod: PodSpec, container: ContainerSpec, volume: string): { readable: boolean; why: string } {
  const v = pod.volumes?.find((x) => x.name === volume);
  const source = v?.secret ?? v?.configMap;
  if (!source) return { readable: true, why: 'not a Secret or ConfigMap volume' };
  const user = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser ?? 0;
  const group = container.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup ?? 0;
  const fsGroup = pod.securityContext?.fsGroup;
  const groups = [
    group,
    ...(fsGroup !== undefined ? [fsGroup] : []),
    ...(pod.securityContext?.supplementalGroups ?? []),
  ];
  const fileGroup = fsGroup ?? 0;
  const mode = (source.defaultMode ?? 0o644) | (fsGroup !== undefined ? 0o440 : 0);
  const readable = user === 0 || (mode & 0o004) !== 0 || (groups.includes(fileGroup) && (mode & 0o040) !== 0);
  return {
    readable,
    why: `owner root, group ${fileGroup}, mode ${mode.toString(8).padStart(4, '0')}; process uid ${user}, groups ${groups.join(',')}`,
  };
}

interface ContainerSpec {
  name: string;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    fsGroup?: number;
    supplementalGroups?: number[];
  };
  containers: ContainerSpec[];
  volumes?: { name: string; secret?: { defaultMode?: number }; configMap?: { defaultMode?: number } }[];
}

describe('file ownership in the rendered pods', () => {
  it('the rule: root-owned 0440 files need an fsGroup for uid 1000; 0644 files are readable by all', () => {
    const c: ContainerSpec = { name: 'app' };
    const pod = (fsGroup?: number, defaultMode?: number): PodSpec => ({
      securityContext: { runAsUser: 1000, runAsGroup: 1000, ...(fsGroup !== undefined ? { fsGroup } : {}) },
      containers: [c],
      volumes: [{ name: 'k', secret: defaultMode !== undefined ? { defaultMode } : {} }],
    });
    assert.equal(
      canRead(pod(undefined, 0o440), c, 'k').readable,
      false,
      'the shipped manifests before the fix',
    );
    assert.equal(canRead(pod(1000, 0o440), c, 'k').readable, true);
    assert.equal(canRead(pod(undefined, 0o444), c, 'k').readable, true);
    assert.equal(
      canRead(pod(undefined, 0o400), c, 'k').readable,
      false,
      'root-owned, no group or other read',
    );
    assert.equal(canRead(pod(1000, 0o400), c, 'k').readable, true);
  });

  it('every container of both overlays can read every Secret and ConfigMap it mounts', {
    skip: !hasKubectl && 'kubectl not installed',
  }, () => {
    for (const overlay of ['production', 'external-redis']) {
      for (const m of render(overlay)) {
        const spec = (m as { spec?: { template?: { spec?: PodSpec } } }).spec?.template?.spec;
        if (!spec) continue;
        for (const container of spec.containers) {
          for (const mount of container.volumeMounts ?? []) {
            const r = canRead(spec, container, mount.name);
            assert.ok(
              r.readable,
              `${overlay} ${m.kind}/${m.metadata.name} ${container.name} cannot read ${mount.mountPath}: ${r.why}`,
            );
          }
        }
      }
    }
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
