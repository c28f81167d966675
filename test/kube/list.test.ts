import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../src/kube/cluster.ts';
import { KubeError } from '../../src/kube/errors.ts';
import { apiPath, listItems, readObject } from '../../src/kube/list.ts';
import { metrics } from '../../src/observability/metrics.ts';
import { makeClusterTls } from '../../src/sim/server/tls.ts';
import { clusterFor } from '../helpers/kube.ts';

const answering = (status: number, body: string) => ({
  name: 'icp',
  get: async (path: string) => {
    assert.equal(path, '/api/v1/pods');
    return { status, body };
  },
});

const errorCount = async (cluster: string, kind: string) =>
  (await metrics.clusterErrors.get()).values.find(
    (v) => v.labels.cluster === cluster && v.labels.kind === kind,
  )?.value ?? 0;
const forbiddenCount = () => errorCount('icp', 'forbidden');

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
      (err) =>
        err instanceof KubeError &&
        err.failure.kind === 'server-error' &&
        err.failure.reason ===
          'list pods: the API server answered 200 with a list whose items are not an array',
    );
  });
});

describe('a list call whose 200 answer is not a list, over real HTTPS', () => {
  // What sits in front of an API server (an authenticating proxy, a load balancer's error page) or a cut
  // connection answers 200 with something that is not a Kubernetes list.
  const bodies: Record<string, string> = {
    '/api/v1/pods':
      '<html>\n<head><title>Sign in</title></head>\n<body>Your session has expired. Sign in again.</body></html>',
    '/apis/apps/v1/deployments':
      '{"kind":"DeploymentList","apiVersion":"apps/v1","items":[{"metadata":{"name":"re',
    '/apis/apps/v1/daemonsets': '',
  };
  let api: Awaited<ReturnType<typeof clusterFor>>;
  let cluster: Cluster;
  before(async () => {
    const certs = await makeClusterTls('proxied');
    const server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      const body = bodies[req.url ?? ''];
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html' }).end(body ?? '');
    });
    api = await clusterFor(server, certs.caCert, 't', 'proxied');
    cluster = api.cluster;
  });
  after(async () => {
    await api.close();
  });

  const refused = async (path: string, what: string) => {
    const before = await errorCount('proxied', 'server-error');
    let reason = '';
    await assert.rejects(listItems(cluster, path, what, 5000), (err) => {
      assert.ok(err instanceof KubeError, `a KubeError, not ${(err as Error).name}`);
      assert.equal(err.failure.kind, 'server-error');
      assert.equal(err.failure.status, 200);
      reason = err.failure.reason;
      return true;
    });
    assert.equal(await errorCount('proxied', 'server-error'), before + 1, 'counted in the metrics');
    return reason;
  };

  it('an HTML page: a KubeError that quotes its start, escaped and cut, and is counted', async () => {
    assert.equal(
      await refused('/api/v1/pods', 'pods'),
      'list pods: the API server answered 200 with a body that is not JSON (starts with "<html> <head><title>Sign in</title></hea"…)',
    );
  });

  it('a truncated JSON list and an empty body: the same kind of failure', async () => {
    assert.equal(
      await refused('/apis/apps/v1/deployments', 'deployments'),
      'list deployments: the API server answered 200 with a body that is not JSON (starts with "{\\"kind\\":\\"DeploymentList\\",\\"apiVersion\\":\\"a"…)',
    );
    assert.equal(
      await refused('/apis/apps/v1/daemonsets', 'daemonsets'),
      'list daemonsets: the API server answered 200 with an empty body',
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
    const before = await errorCount('icp', 'not-found');
    const status = JSON.stringify({ kind: 'Status', message: 'secrets "iks" not found', code: 404 });
    await assert.rejects(
      readObject(at(404, status), '/api/v1/namespaces/istio-system/secrets/iks', 'secret', 1000),
      (err) => {
        assert.ok(err instanceof KubeError);
        assert.deepEqual(err.failure, { kind: 'not-found', status: 404, reason: 'secrets "iks" not found' });
        return true;
      },
    );
    assert.equal(await errorCount('icp', 'not-found'), before + 1);
  });

  it('refuses a 200 that is not one object, saying what came instead', async () => {
    const cases: [string, string][] = [
      ['null', 'JSON that is not a Kubernetes object'],
      ['[]', 'JSON that is not a Kubernetes object'],
      ['<html>Sign in</html>', 'a body that is not JSON (starts with "<html>Sign in</html>")'],
      ['', 'an empty body'],
    ];
    for (const [body, problem] of cases)
      await assert.rejects(
        readObject(
          at(200, body),
          '/api/v1/namespaces/istio-system/secrets/iks',
          'secret istio-system/iks',
          1000,
        ),
        (err) =>
          err instanceof KubeError &&
          err.failure.kind === 'server-error' &&
          err.failure.reason === `read secret istio-system/iks: the API server answered 200 with ${problem}`,
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
    const api = await clusterFor(server, certs.caCert);
    const cluster = api.cluster;
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
      await api.close();
    }
  });
});
