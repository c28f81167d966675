import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cidrCovers, containingCidr, isIpv4, parseCidr } from '../../../src/mesh/vpn/ipv4.ts';
import {
  appTargets,
  controlPlaneTargets,
  nodeProbePods,
  type PodInfo,
  pickPod,
  serviceTargets,
  withoutPods,
} from '../../../src/mesh/vpn/targets.ts';

const pod = (name: string, over: Partial<PodInfo> = {}): PodInfo => ({
  namespace: 'default',
  name,
  ip: `10.1.0.${name.length}`,
  ready: true,
  status: 'Running 2/2',
  labels: {},
  hostNetwork: false,
  containers: ['app', 'istio-proxy'],
  ...over,
});

describe('IPv4 and CIDRs', () => {
  it('accepts only plain dotted quads', () => {
    for (const ok of ['10.1.0.5', '0.0.0.0', '255.255.255.255']) assert.ok(isIpv4(ok), ok);
    for (const bad of [
      '10.1.0',
      '10.1.0.256',
      '010.1.0.5',
      '10.1.0.5 ',
      ' 10.1.0.5',
      '-f',
      '10.1.0.5;id',
      '::1',
      '0x0a.1.1.1',
    ]) {
      assert.ok(!isIpv4(bad), bad);
    }
  });

  it('finds the CIDR holding an address, and whether one CIDR covers another', () => {
    assert.equal(containingCidr(['10.0.0.0/24', '10.1.0.0/16'], '10.1.200.3'), '10.1.0.0/16');
    assert.equal(containingCidr(['10.0.0.0/24'], '10.0.1.0'), undefined);
    assert.equal(containingCidr(['0.0.0.0/0'], '192.0.2.1'), '0.0.0.0/0');
    assert.ok(cidrCovers('10.1.0.0/16', '10.1.128.0/17'));
    assert.ok(!cidrCovers('10.1.128.0/17', '10.1.0.0/16'));
    assert.equal(parseCidr('10.1.0.0/33'), undefined);
    assert.equal(parseCidr('dynamic'), undefined);
  });
});

describe('pod choice', () => {
  it('takes the first ready pod with an IP by name, else says which pod is unusable', () => {
    const picked = pickPod([pod('b'), pod('a', { ready: false }), pod('c')]);
    assert.equal('ready' in picked && picked.ready.name, 'b');
    assert.deepEqual(pickPod([pod('x', { ready: false, status: 'CrashLoopBackOff 0/1' })]), {
      unready: pod('x', { ready: false, status: 'CrashLoopBackOff 0/1' }),
    });
    assert.deepEqual(pickPod([]), {});
  });

  it('control plane: every ready replica, numbered; a component without one is skipped in words', () => {
    const choice = controlPlaneTargets(
      'icp',
      ['10.1.0.0/16'],
      [
        { component: 'pilot', pods: [pod('pilot-b'), pod('pilot-a', { ip: '10.1.0.99' })] },
        { component: 'tracing', pods: [pod('jaeger', { ready: false })] },
        { component: 'policy', pods: [pod('policy', { hostNetwork: true })] },
      ],
    );
    assert.deepEqual(
      choice.targets.map((t) => [t.label, t.ip, t.pod?.name, t.cidr]),
      [
        ['pilot', '10.1.0.99', 'pilot-a', '10.1.0.0/16'],
        ['pilot#2', '10.1.0.7', 'pilot-b', '10.1.0.0/16'],
      ],
    );
    assert.deepEqual(choice.skipped, ['no ready tracing pod on icp', 'no ready policy pod on icp']);
  });

  it('apps: one ready pod per app and version, outside system namespaces and the pods meshops uses', () => {
    const pods = [
      pod('reviews-v3-b', { labels: { app: 'reviews', version: 'v3' } }),
      pod('reviews-v3-a', { labels: { app: 'reviews', version: 'v3' }, ready: false }),
      pod('ratings', { labels: { app: 'ratings' }, ip: '172.30.9.9' }),
      pod('web', { namespace: 'shop', labels: { 'app.kubernetes.io/name': 'web' } }),
      pod('web', { namespace: 'blog', labels: { app: 'web' } }),
      pod('dns', { namespace: 'kube-system', labels: { app: 'kube-dns' } }),
      pod('vpn-strongswan-x', { labels: { app: 'strongswan' } }),
      pod('routes', { labels: { app: 'strongswan-routes' }, hostNetwork: true }),
      pod('nolabel'),
      pod('broken', { labels: { app: 'broken' }, ready: false }),
    ];
    const choice = withoutPods(
      appTargets('iks', ['172.30.0.0/16'], pods, new Set(['kube-system', 'istio-system'])),
      [{ namespace: 'default', name: 'vpn-strongswan-x' }],
    );
    assert.deepEqual(
      choice.targets.map((t) => [t.label, t.pod?.name, t.cidr]),
      [
        ['blog/web', 'web', undefined],
        ['ratings', 'ratings', '172.30.0.0/16'],
        ['reviews-v3', 'reviews-v3-b', undefined],
        ['shop/web', 'web', undefined],
      ],
    );
    assert.deepEqual(choice.skipped, ['no ready broken pod on iks']);
  });
});

describe('node probe pods', () => {
  it('one ready pod per node with the container, by name; host-network, unready and excluded pods left out', () => {
    const pods = [
      pod('b-app', { nodeName: 'n1' }),
      pod('a-app', { nodeName: 'n1' }),
      pod('no-proxy', { nodeName: 'n2', containers: ['app'] }),
      pod('host', { nodeName: 'n2', hostNetwork: true }),
      pod('starting', { nodeName: 'n2', ready: false }),
      pod('vpn', { nodeName: 'n3' }),
      pod('c-app', { nodeName: 'n3' }),
      pod('nowhere'),
    ];
    const picked = nodeProbePods(pods, 'istio-proxy', [{ namespace: 'default', name: 'vpn' }]);
    assert.deepEqual(
      picked.map((p) => [p.nodeName, p.name]),
      [
        ['n1', 'a-app'],
        ['n3', 'c-app'],
      ],
    );
  });
});

describe('serviceTargets', () => {
  const pilot = { component: 'pilot', pods: [pod('istio-pilot-1', { labels: { istio: 'pilot' } })] };
  const tcp = (port: number) => ({ port, protocol: 'TCP' as const });
  it('a component’s Service in a service CIDR, with only the control-plane ports it serves', () => {
    const found = serviceTargets(
      'icp',
      ['10.0.0.0/24'],
      [pilot],
      [
        {
          name: 'istio-pilot',
          clusterIp: '10.0.0.28',
          selector: { istio: 'pilot' },
          ports: [tcp(15010), tcp(8080)],
        },
        // Outside every configured service CIDR: no route into the tunnel to judge.
        { name: 'pilot-lb', clusterIp: '172.20.0.9', selector: { istio: 'pilot' }, ports: [tcp(15010)] },
        // No selector (endpoints managed by hand), or another component's selector.
        { name: 'pilot-manual', clusterIp: '10.0.0.30', selector: {}, ports: [tcp(15010)] },
        { name: 'istio-policy', clusterIp: '10.0.0.31', selector: { istio: 'mixer' }, ports: [tcp(9091)] },
        { name: 'headless', selector: { istio: 'pilot' }, ports: [tcp(15010)] },
      ],
    );
    assert.deepEqual(found, [
      {
        target: { cluster: 'icp', ip: '10.0.0.28', label: 'istio-pilot Service', cidr: '10.0.0.0/24' },
        ports: [tcp(15010)],
      },
    ]);
  });
});
