import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  detectDrift,
  type PrimaryControlPlane,
  primaryControlPlane,
  type RemoteControlPlane,
  remoteControlPlane,
} from '../../../src/mesh/istio/drift.ts';
import { rolloutFacts } from '../../../src/mesh/istio/facts.ts';
import { address, labelsOf, pod, snapshot } from './snapshots.ts';

const primary = (components: PrimaryControlPlane['components']): PrimaryControlPlane => ({
  cluster: 'icp',
  profile: 'istio-1.0',
  components,
});
const remote = (addresses: RemoteControlPlane['addresses']): RemoteControlPlane => ({
  cluster: 'iks',
  profile: 'istio-1.0',
  addresses,
  unresolved: [],
});

describe('detectDrift (pure)', () => {
  it('an address the primary no longer serves is drift, with the value to write instead', () => {
    const found = detectDrift(
      remote([address('pilot', 'ConfigMap istio-system/istio', '10.1.0.23:15007')]),
      primary({ pilot: { live: ['10.1.0.57'], stable: ['10.0.0.28'] } }),
    );
    assert.deepEqual(found, [
      {
        remote: 'iks',
        primary: 'icp',
        component: 'pilot',
        object: 'ConfigMap istio-system/istio',
        field: 'f',
        configured: '10.1.0.23:15007',
        configuredHost: '10.1.0.23',
        live: ['10.1.0.57'],
        stable: ['10.0.0.28'],
        suggested: '10.1.0.57:15007',
      },
    ]);
  });

  it('a live pod IP or a stable Service address is no drift', () => {
    const p = primary({ pilot: { live: ['10.1.0.57'], stable: ['10.0.0.28'] } });
    assert.deepEqual(detectDrift(remote([address('pilot', 'o', '10.1.0.57:15007')]), p), []);
    assert.deepEqual(detectDrift(remote([address('pilot', 'o', '10.0.0.28:15007')]), p), []);
  });

  it('no live address: drift without a suggestion; an unknown component is not judged', () => {
    const found = detectDrift(
      remote([address('policy', 'o', '10.1.0.9:15004'), address('galley', 'o', '10.1.0.1:443')]),
      primary({ policy: { live: [], stable: [] } }),
    );
    assert.equal(found.length, 1);
    assert.equal(found[0]?.component, 'policy');
    assert.equal(found[0]?.suggested, undefined);
  });
});

describe('reading both sides from snapshots', () => {
  it('primary: a repair targets the newest Ready pod, and waits while any pod is not Ready', () => {
    const labels = labelsOf('istio=pilot');
    const services = [
      {
        name: 'istio-pilot',
        type: 'ClusterIP',
        selector: { istio: 'pilot' },
        addresses: ['10.0.0.28'],
        external: [],
      },
    ];
    const both = primaryControlPlane(
      snapshot('icp', 'primary', {
        pods: {
          pilot: [
            pod('pilot-old', { labels, ip: '10.1.0.5', ageMs: 86_400_000 }),
            pod('pilot-new', { labels, ip: '10.1.0.6', ageMs: 60_000 }),
          ],
        },
        services,
      }),
    ).state.components.pilot!;
    assert.equal(both.target, '10.1.0.6', 'the newer of two Ready pods: the one a rollout keeps');
    assert.equal(both.unsettled, undefined);
    const found = detectDrift(
      remote([address('pilot', 'ConfigMap istio-system/istio', '10.1.0.9:15007')]),
      primary({ pilot: both }),
    );
    assert.equal(found[0]?.suggested, '10.1.0.6:15007');
    const rolling = primaryControlPlane(
      snapshot('icp', 'primary', {
        pods: {
          pilot: [
            pod('pilot-old', { labels, ip: '10.1.0.5', ageMs: 86_400_000 }),
            pod('pilot-new', { labels, ip: '10.1.0.6', ageMs: 5_000, ready: false }),
          ],
        },
        services,
      }),
    ).state.components.pilot!;
    const waiting = detectDrift(
      remote([address('pilot', 'ConfigMap istio-system/istio', '10.1.0.9:15007')]),
      primary({ pilot: rolling }),
    );
    assert.equal(waiting[0]?.suggested, undefined, 'not the old pod a rollout is about to remove');
    assert.match(waiting[0]?.unsettled ?? '', /^1 of 2 pilot pods Ready on icp \(pilot-new Running\)/);
  });

  it('primary: a Deployment whose rollout is under way stops the repair while every pod listed is still Ready', () => {
    const labels = labelsOf('istio=pilot');
    const pilot = (status: Record<string, number>, generation = 2) =>
      primaryControlPlane(
        snapshot('icp', 'primary', {
          pods: { pilot: [pod('pilot-old', { labels, ip: '10.1.0.5' })] },
          rollouts: {
            pilot: [
              rolloutFacts({
                metadata: { name: 'istio-pilot', namespace: 'istio-system', generation },
                spec: {
                  replicas: 1,
                  template: { metadata: { labels } },
                },
                status: { observedGeneration: 2, replicas: 1, ...status },
              }),
            ],
          },
          services: [],
        }),
      ).state.components.pilot!;
    const given = remote([address('pilot', 'ConfigMap istio-system/istio', '10.1.0.9:15007')]);
    const judge = (c: ReturnType<typeof pilot>) => detectDrift(given, primary({ pilot: c }))[0]!;

    const settled = judge(pilot({ updatedReplicas: 1, availableReplicas: 1, readyReplicas: 1 }));
    assert.equal(settled.suggested, '10.1.0.5:15007');
    assert.equal(settled.unsettled, undefined);

    const notUpdated = judge(pilot({ updatedReplicas: 0, availableReplicas: 1, readyReplicas: 1 }));
    assert.equal(notUpdated.suggested, undefined, 'the only Ready pod is the one the rollout replaces');
    assert.equal(
      notUpdated.unsettled,
      'pilot on icp: Deployment istio-pilot is rolling out (0 of 1 new pods created)',
    );
    const notAvailable = judge(pilot({ replicas: 1, updatedReplicas: 1, availableReplicas: 0 }));
    assert.match(
      notAvailable.unsettled ?? '',
      /Deployment istio-pilot is rolling out \(0 of 1 new pods ready\)/,
    );
    const unobserved = judge(pilot({ updatedReplicas: 1, availableReplicas: 1 }, 3));
    assert.match(
      unobserved.unsettled ?? '',
      /Deployment istio-pilot is rolling out \(waiting for the restart/,
    );
  });

  it('primary: pod IPs (ready or not, not terminating) plus addresses of Services selecting the pods', () => {
    const labels = labelsOf('istio=pilot');
    const s = snapshot('icp', 'primary', {
      pods: {
        pilot: [
          pod('pilot-a', { labels, ip: '10.1.0.5' }),
          pod('pilot-b', { labels, ip: '10.1.0.6', ready: false }),
        ],
      },
      services: [
        {
          name: 'istio-pilot',
          type: 'ClusterIP',
          selector: { istio: 'pilot' },
          addresses: ['10.0.0.28'],
          external: [],
        },
        { name: 'other', type: 'ClusterIP', selector: { app: 'x' }, addresses: ['10.0.0.99'], external: [] },
      ],
    });
    const { state, problems } = primaryControlPlane(s);
    assert.deepEqual(state.components.pilot, {
      live: ['10.1.0.5', '10.1.0.6'],
      stable: ['10.0.0.28'],
      target: '10.1.0.5',
      unsettled:
        '1 of 2 pilot pods Ready on icp (pilot-b Running): a rollout is in progress or a pod is failing',
    });
    assert.deepEqual(problems, []);
  });

  it('primary: without its Services nothing is judged (a LoadBalancer fix must not look like drift)', () => {
    const s = snapshot('icp', 'primary', {
      services: { ok: false, failure: { kind: 'forbidden', status: 403, reason: '403 Forbidden' } },
    });
    const { state, problems } = primaryControlPlane(s);
    assert.deepEqual(state.components, {});
    assert.deepEqual(problems, [
      {
        cluster: 'icp',
        kind: 'not-checked',
        what: 'Services in istio-system',
        failure: { kind: 'forbidden', status: 403, reason: '403 Forbidden' },
      },
    ]);
  });

  it('modern primary: istiod lives at the east-west gateway’s external address', () => {
    const labels = labelsOf('istio=eastwestgateway');
    const s = snapshot('icp', 'primary', {
      profile: 'modern',
      pods: { eastwestgateway: [pod('ew-1', { labels, ip: '10.1.0.70' })] },
      services: [
        {
          name: 'istio-eastwestgateway',
          type: 'LoadBalancer',
          selector: labels,
          addresses: ['10.0.0.5', '198.51.100.50'],
          external: ['198.51.100.50'],
        },
      ],
    });
    assert.deepEqual(primaryControlPlane(s).state.components.istiod, {
      live: ['198.51.100.50'],
      stable: [],
      target: '198.51.100.50',
    });
  });

  it('1.0 remote: ConfigMap, Endpoints and each injected pod’s flags; hostnames are not compared', () => {
    const s = snapshot('iks', 'remote', {
      meshAddresses: [address('pilot', 'ConfigMap istio-system/istio', 'istio-pilot.istio-system:15007')],
      endpoints: [address('pilot', 'Endpoints istio-system/istio-pilot', '10.1.0.23')],
      workloads: [
        pod('reviews-v3-1', {
          namespace: 'default',
          proxy: 'ready',
          proxyArgs: ['--discoveryAddress', '10.1.0.23:15007', '--statsdUdpAddress', '10.1.0.9:9125'],
        }),
      ],
    });
    const { state, problems } = remoteControlPlane(s);
    assert.deepEqual(
      state.addresses.map((a) => [a.component, a.object, a.field, a.host]),
      [
        ['pilot', 'Endpoints istio-system/istio-pilot', 'f', '10.1.0.23'],
        ['pilot', 'Pod default/reviews-v3-1', 'istio-proxy --discoveryAddress', '10.1.0.23'],
        ['statsd-prom-bridge', 'Pod default/reviews-v3-1', 'istio-proxy --statsdUdpAddress', '10.1.0.9'],
      ],
    );
    assert.deepEqual(
      state.unresolved.map((a) => a.host),
      ['istio-pilot.istio-system'],
    );
    assert.deepEqual(problems, []);
  });

  it('modern remote: an ExternalName Service, a missing Service, a Service without endpoints', () => {
    const external = remoteControlPlane(
      snapshot('iks', 'remote', {
        profile: 'modern',
        istiodService: {
          name: 'istiod',
          type: 'ExternalName',
          selector: {},
          addresses: [],
          external: [],
          externalName: 'ew.example.com',
        },
      }),
    );
    assert.deepEqual(
      external.state.addresses.map((a) => [a.object, a.field, a.host]),
      [['Service istio-system/istiod', 'spec.externalName', 'ew.example.com']],
    );
    const absent = remoteControlPlane(snapshot('iks', 'remote', { profile: 'modern', istiodService: null }));
    assert.deepEqual(absent.problems, [
      { cluster: 'iks', kind: 'istiod-service-absent', object: 'Service istio-system/istiod' },
    ]);
    const empty = remoteControlPlane(snapshot('iks', 'remote', { profile: 'modern', slices: [] }));
    assert.deepEqual(empty.problems, [
      { cluster: 'iks', kind: 'istiod-endpoints-absent', object: 'EndpointSlice istio-system/istiod' },
    ]);
  });

  it("modern remote: the address is read from the object the remote's Istio version owns", () => {
    const both = snapshot('iks', 'remote', {
      profile: 'modern',
      istiodEndpoints: [address('istiod', 'Endpoints istio-system/istiod', '198.51.100.50')],
      slices: [address('istiod', 'EndpointSlice istio-system/istiod', '198.51.100.51')],
    });
    const read = (version?: string) => {
      const r = remoteControlPlane(both, version).state;
      return [r.istiod, r.addresses.map((a) => a.object)];
    };
    assert.deepEqual(read('1.24.2'), [
      { kind: 'Endpoints', version: '1.24.2' },
      ['Endpoints istio-system/istiod'],
    ]);
    assert.deepEqual(read('1.28.0'), [
      { kind: 'EndpointSlice', version: '1.28.0' },
      ['EndpointSlice istio-system/istiod'],
    ]);
    assert.deepEqual(read(undefined), [{ kind: 'Endpoints' }, ['Endpoints istio-system/istiod']]);
    const onlySlice = snapshot('iks', 'remote', {
      profile: 'modern',
      slices: [address('istiod', 'EndpointSlice istio-system/istiod', '198.51.100.51')],
    });
    assert.deepEqual(remoteControlPlane(onlySlice).state.istiod, { kind: 'EndpointSlice' });
    const stale = remoteControlPlane(
      snapshot('iks', 'remote', { profile: 'modern', istiodEndpoints: null }),
      '1.24.2',
    );
    assert.deepEqual(stale.problems, [
      { cluster: 'iks', kind: 'istiod-endpoints-absent', object: 'Endpoints istio-system/istiod' },
    ]);
  });
});
