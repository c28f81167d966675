import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import tls from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KubeConfig } from '@kubernetes/client-node';
import { type Cluster, createCluster } from '../../src/kube/cluster.ts';
import { type SimMesh, startSimMesh } from '../../src/sim/index.ts';
import { makeClusterTls } from '../../src/sim/server/tls.ts';
import { clusterFor } from '../helpers/kube.ts';

describe('exec over WebSocket', () => {
  let sim: SimMesh;
  let icp: Cluster;
  let pod: string;
  before(async () => {
    sim = await startSimMesh({ dir: mkdtempSync(join(tmpdir(), 'meshops-exec-')) });
    icp = createCluster(
      { name: 'icp', role: 'primary', kubeconfig: sim.kubeconfigPath('icp'), podCidrs: [], serviceCidrs: [] },
      5000,
    );
    const pods = await icp.core.listNamespacedPod(
      { namespace: 'default', labelSelector: 'app=strongswan' },
      icp.options(),
    );
    pod = pods.items[0]!.metadata!.name!;
  });
  after(() => sim.close());

  it('keeps output up to the cap and says how much more there was', async () => {
    const request = { namespace: 'default', pod, command: ['ipsec', 'statusall'], timeoutMs: 5000 };
    const whole = await icp.exec(request);
    assert.ok(whole.stdout.length > 200, 'statusall prints more than the cap used below');
    assert.doesNotMatch(whole.stdout, /output cut/);

    const capped = await icp.exec({ ...request, outputCap: 100 });
    const bytes = Buffer.byteLength(whole.stdout);
    assert.equal(capped.stdout.slice(0, 100), whole.stdout.slice(0, 100));
    assert.equal(
      capped.stdout.slice(100),
      `\n[output cut: ${bytes - 100} more bytes after the first 100]`,
      'the cut is said, with how much was left out',
    );
  });

  it('says when the stream is open, once and before the answer; never for a refused exec', async () => {
    const events: string[] = [];
    const request = {
      namespace: 'default',
      pod,
      command: ['ipsec', 'statusall'],
      timeoutMs: 5000,
      onOpen: () => events.push('open'),
    };
    const result = await icp.exec(request);
    events.push(`exit ${result.exitCode}`);
    assert.deepEqual(events, ['open', 'exit 0']);
    events.length = 0;
    await assert.rejects(icp.exec({ ...request, pod: 'no-such-pod' }), /not found/);
    assert.deepEqual(events, []);
  });
});

describe('exec TLS sessions', () => {
  it('a cluster resumes its TLS session and keeps its TLS context on every exec after the first', async () => {
    const certs = await makeClusterTls('api');
    const reused: boolean[] = [];
    const server = createServer({ key: certs.key, cert: certs.cert });
    server.on('upgrade', (_req, socket) => {
      reused.push((socket as tls.TLSSocket).isSessionReused());
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    const api = await clusterFor(server, certs.caCert);
    const cluster = api.cluster;
    const exec = () =>
      assert.rejects(
        cluster.exec({ namespace: 'default', pod: 'p', command: ['true'], timeoutMs: 5000 }),
        /403/,
      );
    try {
      await exec();
      // Parsing the CA and building a context per socket was most of an exec's CPU in meshops.
      const contexts = mock.method(tls, 'createSecureContext');
      await exec();
      await exec();
      assert.equal(contexts.mock.callCount(), 0, 'no TLS context is built after the first exec');
      contexts.mock.restore();
      assert.deepEqual(reused, [false, true, true]);
    } finally {
      await api.close();
    }
  });
});

describe('API calls', () => {
  it("build one connection pool per cluster, not one per call, and carry the kubeconfig's token on each", async () => {
    const certs = await makeClusterTls('api');
    const tokens: (string | undefined)[] = [];
    const server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      tokens.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'NamespaceList', items: [{ metadata: { name: 'default' } }] }));
    });
    const api = await clusterFor(server, certs.caCert, 't0ken');
    // Private in client-node's typings: where it works out the TLS options of each request's undici Agent.
    const proto = KubeConfig.prototype as unknown as { createDispatcherOptions(...args: unknown[]): unknown };
    const built = mock.method(proto, 'createDispatcherOptions');
    try {
      const cluster = api.cluster;
      for (let i = 0; i < 3; i++) {
        const list = await cluster.core.listNamespace({}, cluster.options());
        assert.equal(list.items[0]?.metadata?.name, 'default');
        assert.equal((await cluster.get('/api/v1/namespaces')).status, 200);
      }
      assert.equal(built.mock.callCount(), 1, 'one Agent for the cluster, built at its first call');
      assert.deepEqual(tokens, Array(6).fill('Bearer t0ken'));
    } finally {
      built.mock.restore();
      await api.close();
    }
  });
});

describe('API call TLS sessions', () => {
  it('a new connection resumes the TLS session after a garbage collection (undici alone holds it weakly) and builds no TLS context', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const certs = await makeClusterTls('api');
    const reused: boolean[] = [];
    const server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      reused.push((req.socket as tls.TLSSocket).isSessionReused());
      // Closed after each answer, as kept-alive connections are after a calm spell.
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"kind":"PodList","items":[]}');
    });
    const api = await clusterFor(server, certs.caCert);
    const cluster = api.cluster;
    try {
      let contexts: ReturnType<typeof mock.method> | undefined;
      for (let i = 0; i < 3; i++) {
        assert.equal((await cluster.get('/api/v1/pods')).status, 200);
        // TLS 1.3 tickets arrive after the answer; then nothing but the cache holds them.
        await new Promise((resolve) => setTimeout(resolve, 50));
        gc();
        contexts ??= mock.method(tls, 'createSecureContext');
      }
      assert.equal(contexts?.mock.callCount(), 0, 'no TLS context is built for the later connections');
      contexts?.mock.restore();
      assert.deepEqual(reused, [false, true, true]);
    } finally {
      await api.close();
    }
  });
});
