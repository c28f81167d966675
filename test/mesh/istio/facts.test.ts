import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { remoteSecretReports } from '../../../src/mesh/istio/evaluate.ts';
import {
  endpointsAddresses,
  hostOf,
  meshConfigFacts,
  namespaceFacts,
  podFacts,
  secretFacts,
  selects,
  serviceFacts,
} from '../../../src/mesh/istio/facts.ts';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/istio/${name}`, import.meta.url), 'utf8');

describe('cluster answers reduced to facts', () => {
  it('reads the five control-plane addresses from the istio-remote 1.0.2 ConfigMap', () => {
    const cm = parse(fixture('istio-remote-1.0.2-configmap.yaml')) as V1ConfigMap;
    const facts = meshConfigFacts(cm, 'istio-system');
    assert.equal(facts.state, 'ok');
    assert.deepEqual(
      facts.state === 'ok' ? facts.addresses.map((a) => [a.component, a.field, a.value, a.host]) : [],
      [
        ['pilot', 'mesh: defaultConfig.discoveryAddress', '10.1.151.122:15007', '10.1.151.122'],
        ['policy', 'mesh: mixerCheckServer', '10.1.25.241:15004', '10.1.25.241'],
        ['telemetry', 'mesh: mixerReportServer', '10.1.113.239:15004', '10.1.113.239'],
        ['tracing', 'mesh: defaultConfig.zipkinAddress', '10.1.206.169:9411', '10.1.206.169'],
        ['statsd-prom-bridge', 'mesh: defaultConfig.statsdUdpAddress', '10.1.74.53:9125', '10.1.74.53'],
      ],
    );
  });

  it('tells an absent ConfigMap from an unusable one', () => {
    assert.deepEqual(meshConfigFacts(null, 'istio-system'), { state: 'absent' });
    assert.deepEqual(meshConfigFacts({ metadata: { name: 'istio' }, data: {} }, 'istio-system'), {
      state: 'invalid',
      reason: 'it has no "mesh" key',
    });
    const broken = meshConfigFacts({ metadata: { name: 'istio' }, data: { mesh: 'a: [' } }, 'istio-system');
    assert.equal(broken.state, 'invalid');
  });

  it('splits host and port', () => {
    assert.equal(hostOf('10.1.0.23:15007'), '10.1.0.23');
    assert.equal(hostOf('10.1.0.23'), '10.1.0.23');
    assert.equal(hostOf('istio-pilot.istio-system:15007'), 'istio-pilot.istio-system');
    assert.equal(hostOf('[fd00::1]:15007'), 'fd00::1');
    assert.equal(hostOf('fd00::1'), 'fd00::1');
  });

  it('lists every address of the selector-less istio-pilot Endpoints', () => {
    const found = endpointsAddresses(
      {
        metadata: { name: 'istio-pilot' },
        subsets: [{ addresses: [{ ip: '10.1.0.5' }, { ip: '10.1.0.6' }] }],
      },
      'istio-system',
      'pilot',
    );
    assert.deepEqual(
      found.map((a) => [a.object, a.field, a.host]),
      [
        ['Endpoints istio-system/istio-pilot', 'subsets[0].addresses[0].ip', '10.1.0.5'],
        ['Endpoints istio-system/istio-pilot', 'subsets[0].addresses[1].ip', '10.1.0.6'],
      ],
    );
  });

  it('namespaces join the mesh by istio-injection=enabled or a revision label, not when disabled', () => {
    const ns = (labels: Record<string, string>) => namespaceFacts({ metadata: { name: 'n', labels } });
    assert.equal(ns({ 'istio-injection': 'enabled' }).injection, 'istio-injection=enabled');
    assert.equal(ns({ 'istio.io/rev': 'canary' }).injection, 'istio.io/rev=canary');
    assert.equal(ns({ 'istio.io/rev': 'canary', 'istio-injection': 'disabled' }).injection, undefined);
    assert.equal(ns({ 'istio-injection': 'disabled' }).injection, undefined);
    assert.equal(ns({}).injection, undefined);
  });

  it('pods: sidecar state, opt-out, the owning Deployment and the addresses baked into the proxy', () => {
    const pod = (p: Partial<V1Pod> & { proxyReady?: boolean; native?: boolean }): V1Pod => ({
      metadata: {
        name: 'reviews-v3-5f7c9d8b4-x2x9q',
        namespace: 'default',
        labels: { app: 'reviews', 'pod-template-hash': '5f7c9d8b4' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'reviews-v3-5f7c9d8b4', uid: 'u' },
        ],
        ...p.metadata,
      },
      spec: {
        containers: [
          { name: 'reviews' },
          ...(p.native
            ? []
            : [
                {
                  name: 'istio-proxy',
                  args: [
                    'proxy',
                    'sidecar',
                    '--discoveryAddress',
                    '10.1.0.23:15007',
                    '--statsdUdpAddress=10.1.0.9:9125',
                  ],
                },
              ]),
        ],
        ...(p.native
          ? {
              initContainers: [
                {
                  name: 'istio-proxy',
                  restartPolicy: 'Always',
                  args: ['--discoveryAddress', 'istiod.istio-system.svc:15012'],
                },
              ],
            }
          : {}),
      },
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'reviews', ready: true, restartCount: 0, image: '', imageID: '', state: { running: {} } },
          ...(p.native
            ? []
            : [
                {
                  name: 'istio-proxy',
                  ready: p.proxyReady ?? true,
                  restartCount: 0,
                  image: '',
                  imageID: '',
                  state: { running: {} },
                },
              ]),
        ],
        ...(p.native
          ? {
              initContainerStatuses: [
                {
                  name: 'istio-proxy',
                  ready: p.proxyReady ?? true,
                  started: true,
                  restartCount: 0,
                  image: '',
                  imageID: '',
                  state: { running: {} },
                },
              ],
            }
          : {}),
      },
    });
    const ready = podFacts(pod({}), NOW);
    assert.equal(ready.workload, 'reviews-v3');
    assert.equal(ready.sidecar, 'ready');
    assert.deepEqual(ready.proxyArgs, {
      discoveryAddress: '10.1.0.23:15007',
      statsdUdpAddress: '10.1.0.9:9125',
    });
    assert.equal(podFacts(pod({ proxyReady: false }), NOW).sidecar, 'unready');
    assert.equal(podFacts(pod({ native: true }), NOW).sidecar, 'ready', 'a native sidecar counts');
    assert.equal(podFacts(pod({ native: true, proxyReady: false }), NOW).sidecar, 'unready');
    const bare: V1Pod = { ...pod({}), spec: { containers: [{ name: 'reviews' }] } };
    assert.equal(podFacts(bare, NOW).sidecar, 'missing');
    const optedOut: V1Pod = {
      ...bare,
      metadata: { ...bare.metadata, annotations: { 'sidecar.istio.io/inject': 'false' } },
    };
    assert.equal(podFacts(optedOut, NOW).optedOut, true);
    const routes: V1Pod = {
      ...bare,
      metadata: {
        name: 'vpn-strongswan-routes-x2k9q',
        namespace: 'default',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'vpn-strongswan-routes', uid: 'u' },
        ],
      },
      spec: { containers: [{ name: 'strongswan-routes' }], hostNetwork: true },
    };
    assert.equal(podFacts(routes, NOW).hostNetwork, true);
    assert.equal(podFacts(routes, NOW).restartKind, 'daemonset');
    assert.equal(podFacts(bare, NOW).hostNetwork, false);
    const unowned: V1Pod = { ...bare, metadata: { name: 'debug', namespace: 'default' } };
    assert.equal(podFacts(unowned, NOW).workload, 'debug');
  });

  it('a Service selects pods by a non-empty subset of their labels; LoadBalancer addresses are kept', () => {
    assert.equal(selects({ istio: 'pilot' }, { istio: 'pilot', app: 'pilot' }), true);
    assert.equal(
      selects(
        { istio: 'mixer', 'istio-mixer-type': 'policy' },
        { istio: 'mixer', 'istio-mixer-type': 'telemetry' },
      ),
      false,
    );
    assert.equal(selects({}, { istio: 'pilot' }), false, 'a selector-less Service selects nothing');
    const svc = serviceFacts({
      metadata: { name: 'istio-eastwestgateway' },
      spec: { type: 'LoadBalancer', clusterIP: '10.0.0.9', selector: { istio: 'eastwestgateway' } },
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.50' }, { hostname: 'ew.example.com' }] } },
    });
    assert.deepEqual(svc.addresses, ['10.0.0.9', '198.51.100.50', 'ew.example.com']);
    assert.deepEqual(svc.external, ['198.51.100.50', 'ew.example.com']);
    assert.deepEqual(serviceFacts({ metadata: { name: 'h' }, spec: { clusterIP: 'None' } }).addresses, []);
  });

  it("judges a remote's secret: absent, unlabelled, another API server, or right; never keeps the token", () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const kubeconfig = (server: string) =>
      b64(
        `apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: ${server}}\n- name: b\n  cluster: {server: https://other:6443}\ncontexts:\n- name: a\n  context: {cluster: a, user: a}\ncurrent-context: a\nusers:\n- name: a\n  user: {token: s3cr3t-token}\n`,
      );
    const labels = { 'istio/multiCluster': 'true' };
    const secret = (name: string, data: Record<string, string>, labelled = true): V1Secret => ({
      metadata: { name, ...(labelled ? { labels } : {}) },
      data,
    });
    const iris = secretFacts(secret('iriscluster', { iriscluster: kubeconfig('https://10.177.80.1:6443/') }));
    assert.deepEqual(iris, { name: 'iriscluster', labelled: true, servers: ['https://10.177.80.1:6443/'] });
    assert.doesNotMatch(JSON.stringify(iris), /s3cr3t/, 'facts hold no credentials');
    const remote = (name: string, secretName?: string) => ({
      name,
      server: 'https://10.177.80.1:6443',
      ...(secretName ? { secret: secretName } : {}),
    });
    const reports = remoteSecretReports(
      [
        { remote: remote('iks', 'iriscluster'), looked: ['iriscluster'], secret: iris },
        {
          remote: remote('gke'),
          looked: ['gke'],
          secret: secretFacts(secret('gke', { gke: kubeconfig('https://10.9.9.9:443') })),
        },
        {
          remote: remote('aks'),
          looked: ['aks'],
          secret: secretFacts(secret('aks', { aks: kubeconfig('https://10.177.80.1:6443') }, false)),
        },
        {
          remote: remote('eks'),
          looked: ['eks'],
          secret: secretFacts(secret('eks', { other: b64('not yaml: [') })),
        },
        { remote: remote('nope'), looked: ['nope', 'istio-remote-secret-nope'] },
      ],
      ['iks', 'gke', 'aks', 'eks', 'nope'],
    );
    assert.deepEqual(reports, [
      { remote: 'iks', looked: ['iriscluster'], configured: true, secret: 'iriscluster' },
      {
        remote: 'gke',
        looked: ['gke'],
        secret: 'gke',
        server: { expected: 'https://10.177.80.1:6443', found: ['https://10.9.9.9:443'] },
      },
      { remote: 'aks', looked: ['aks'], secret: 'aks', unlabelled: true },
      {
        remote: 'eks',
        looked: ['eks'],
        secret: 'eks',
        server: { expected: 'https://10.177.80.1:6443', found: [] },
      },
      { remote: 'nope', looked: ['nope', 'istio-remote-secret-nope'] },
    ]);
  });
});
