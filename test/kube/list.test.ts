import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCluster } from '../../src/kube/cluster.ts';
import { KubeError } from '../../src/kube/errors.ts';
import { apiPath, listItems, readObject } from '../../src/kube/list.ts';
import { metrics } from '../../src/observability/metrics.ts';
import { kubeconfigYaml } from '../../src/sim/server/kubeconfig.ts';
import { makeClusterTls } from '../../src/sim/server/tls.ts';

const answering = (status: number, body: string) => ({
  name: 'icp',
  get: async (path: string) => {
    assert.equal(path, '/api/v1/pods');
    return { status, body };
  },
});

const errorCount = async (kind: string) =>
  (await metrics.clusterErrors.get()).values.find((v) => v.labels.cluster === 'icp' && v.labels.kind === kind)
    ?.value ?? 0;
const forbiddenCount = () => errorCount('forbidden');

describe('a list call read as plain JSON', () => {
  it('returns the items as the API server sent them', async () => {
    const body = JSON.stringify({ kind: 'PodList', items: [{ metadata: { name: 'a' } }] });
    assert.deepEqual(await listItems(answering(200, body), '/api/v1/pods', 'pods', 1000), [
      { metadata: { name: 'a' } },
    ]);
    assert.deepEqual(await listItems(answering(200, '{"items":null}'), '/api/v1/pods', 'pods', 1000), []);
  });

  it('turns a refusal into the same failure a client-node call gives, and counts it', async () => {
    const before = await forbiddenCount();
    const status = JSON.stringify({
      kind: 'Status',
      message: 'pods is forbidden: User "system:serviceaccount:meshops:meshops" cannot list resource "pods"',
    });
    await assert.rejects(listItems(answering(403, status), '/api/v1/pods', 'pods', 1000), (err) => {
      assert.ok(err instanceof KubeError);
      assert.equal(err.failure.kind, 'forbidden');
      assert.match(err.failure.reason, /^403 Forbidden: pods is forbidden/);
      return true;
    });
    assert.equal(await forbiddenCount(), before + 1);
  });

  it('refuses an answer that is not a list', async () => {
    await assert.rejects(
      listItems(answering(200, '{"items":{"a":1}}'), '/api/v1/pods', 'pods', 1000),
      (err) => err instanceof KubeError && err.failure.kind === 'server-error',
    );
  });
});

describe('one object read by name as plain JSON', () => {
  const at = (status: number, body: string) => ({ name: 'icp', get: async () => ({ status, body }) });

  it('returns the object as the API server sent it', async () => {
    const body = JSON.stringify({ kind: 'Secret', metadata: { name: 'iks' }, data: { iks: 'YQ==' } });
    assert.deepEqual(
      await readObject(at(200, body), '/api/v1/namespaces/istio-system/secrets/iks', 'secret', 1000),
      {
        kind: 'Secret',
        metadata: { name: 'iks' },
        data: { iks: 'YQ==' },
      },
    );
  });

  it("throws an absent object as client-node's read does (not-found, counted), for callers that treat it as an answer", async () => {
    const before = await errorCount('not-found');
    const status = JSON.stringify({ kind: 'Status', message: 'secrets "iks" not found', code: 404 });
    await assert.rejects(
      readObject(at(404, status), '/api/v1/namespaces/istio-system/secrets/iks', 'secret', 1000),
      (err) => {
        assert.ok(err instanceof KubeError);
        assert.deepEqual(err.failure, { kind: 'not-found', status: 404, reason: 'secrets "iks" not found' });
        return true;
      },
    );
    assert.equal(await errorCount('not-found'), before + 1);
  });

  it('refuses an answer that is not one object', async () => {
    for (const body of ['null', '[]', '"text"'])
      await assert.rejects(
        readObject(at(200, body), '/api/v1/namespaces/istio-system/secrets/iks', 'secret', 1000),
        (err) => err instanceof KubeError && err.failure.kind === 'server-error',
      );
  });
});

describe('paths of the plain-JSON reads', () => {
  it("are the URLs client-node's own calls request (so the RBAC they need is the same)", async () => {
    const certs = await makeClusterTls('api');
    const urls: string[] = [];
    const server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      urls.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          /\/(namespaces|secrets)\/[^/]+$/.test(req.url ?? '') ? { metadata: {} } : { items: [] },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'meshops-paths-')), 'kubeconfig');
    writeFileSync(
      kubeconfig,
      kubeconfigYaml({
        cluster: 'api',
        server: `https://127.0.0.1:${port}`,
        caCert: certs.caCert,
        token: 't',
        user: 'meshops',
      }),
    );
    const cluster = createCluster(
      { name: 'api', role: 'primary', kubeconfig, podCidrs: [], serviceCidrs: [] },
      5000,
    );
    const o = () => cluster.options();
    const calls: [() => Promise<unknown>, Parameters<typeof apiPath>[0]][] = [
      [() => cluster.core.listNamespace({}, o()), { resource: 'namespaces' }],
      [
        () => cluster.apps.listDeploymentForAllNamespaces({}, o()),
        { group: 'apps/v1', resource: 'deployments' },
      ],
      [
        () => cluster.core.listNamespacedService({ namespace: 'istio-system' }, o()),
        { namespace: 'istio-system', resource: 'services' },
      ],
      [
        () =>
          cluster.core.readNamespacedSecret(
            { name: 'istio-remote-secret-iks', namespace: 'istio-system' },
            o(),
          ),
        { namespace: 'istio-system', resource: 'secrets', name: 'istio-remote-secret-iks' },
      ],
      [
        () =>
          cluster.core.listNamespacedPod(
            { namespace: 'istio-system', labelSelector: 'istio=pilot,app in (a, b)' },
            o(),
          ),
        { namespace: 'istio-system', resource: 'pods', labelSelector: 'istio=pilot,app in (a, b)' },
      ],
      [
        () =>
          cluster.discovery.listNamespacedEndpointSlice(
            { namespace: 'istio-system', labelSelector: 'kubernetes.io/service-name=istiod' },
            o(),
          ),
        {
          group: 'discovery.k8s.io/v1',
          namespace: 'istio-system',
          resource: 'endpointslices',
          labelSelector: 'kubernetes.io/service-name=istiod',
        },
      ],
    ];
    try {
      for (const [viaModels, ref] of calls) {
        await viaModels();
        await cluster.get(apiPath(ref));
        const [theirs, ours] = urls.splice(0);
        assert.equal(ours, theirs);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
