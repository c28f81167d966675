import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SelectorError, selectorText } from '../../../src/config/selector.ts';
import { makePlan, presetTargets } from '../../../src/mesh/routing/plan.ts';
import {
  type DestinationFacts,
  destinationsOf,
  judgeDestination,
  meshPolicyMode,
  policyFor,
  resolveHost,
  subsetLabels,
  tlsFit,
} from '../../../src/mesh/routing/preflight.ts';
import { DEFAULT_PRESETS_DIR, loadPresets } from '../../../src/mesh/routing/presets.ts';

const presets = loadPresets(DEFAULT_PRESETS_DIR, 'default');
const v3 = { host: 'reviews', subset: 'v3', service: { namespace: 'default', name: 'reviews' } };
const RULES = [
  {
    name: 'reviews',
    namespace: 'default',
    host: 'reviews',
    subsets: ['v1', 'v2', 'v3'].map((v) => ({ name: v, labels: { version: v } })),
  },
];

const facts = (
  pods: DestinationFacts['pods'],
  tunnels: DestinationFacts['tunnels'] = {},
): DestinationFacts => ({
  target: v3,
  pods,
  tunnels,
});

describe('pre-flight', () => {
  it('finds every destination of the changed routes, hosts resolved to their Service', () => {
    const plan = makePlan(
      presetTargets(presets.find((p) => p.name === 'reviews-jason-v2-v3')!),
      new Map(),
      'reviews-jason-v2-v3',
    );
    assert.deepEqual(
      destinationsOf(plan.changes).map((t) => `${t.service.namespace}/${t.service.name} ${t.subset}`),
      ['default/reviews v2', 'default/reviews v3'],
    );
    assert.deepEqual(resolveHost('reviews.shop.svc.cluster.local', 'default'), {
      name: 'reviews',
      namespace: 'shop',
      fqdn: 'reviews.shop.svc.cluster.local',
    });
  });

  it('needs a DestinationRule with the subset', () => {
    assert.deepEqual(subsetLabels(v3, RULES), { labels: { version: 'v3' } });
    assert.deepEqual(subsetLabels({ ...v3, subset: 'v4' }, RULES), {
      problem: 'DestinationRule reviews has no subset v4 (it has v1, v2, v3)',
    });
    assert.deepEqual(subsetLabels(v3, []), {
      problem: 'no DestinationRule defines subsets for host reviews',
    });
  });

  it('refuses subset labels that would add requirements to the selector (`v3,app`), naming them', () => {
    const hostile = [{ ...RULES[0]!, subsets: [{ name: 'v3', labels: { version: 'v3,app' } }] }];
    const r = subsetLabels(v3, hostile);
    assert.ok('problem' in r, 'the subset is refused, not joined into a selector');
    assert.match(r.problem, /subset v3 has labels no pod can carry .*"v3,app" is not a label value/);
    const bad: Record<string, string>[] = [
      { version: 'v3,app' },
      { 'a b': 'x' },
      { version: 'v3 in (x)' },
      { version: ' v3' },
    ];
    for (const labels of bad)
      assert.throws(() => selectorText(labels), SelectorError, JSON.stringify(labels));
    assert.equal(selectorText({ app: 'reviews', version: 'v3' }), 'app=reviews,version=v3');
  });

  it('passes a subset with ready pods on the primary', () => {
    const check = judgeDestination(
      facts([
        { cluster: 'icp', role: 'primary', ok: true, ready: 1, total: 1 },
        { cluster: 'iks', role: 'remote', ok: false, reason: 'connection refused' },
      ]),
    );
    assert.deepEqual(check, {
      level: 'ok',
      text: 'reviews v3: 1 of 1 pod ready on icp; iks could not be asked (connection refused)',
    });
  });

  it('fails a remote-only subset when the remote is unreachable, naming it', () => {
    const check = judgeDestination(
      facts([
        { cluster: 'icp', role: 'primary', ok: true, ready: 0, total: 0 },
        { cluster: 'iks', role: 'remote', ok: false, reason: 'connection refused' },
      ]),
    );
    assert.equal(check.level, 'fail');
    assert.equal(
      check.text,
      'reviews v3: no ready pods in any cluster (none on icp; iks could not be asked (connection refused)) — iks unreachable, so its pods there cannot be confirmed',
    );
  });

  it('judges a remote-only subset by its VPN tunnel: up passes, down fails, unknown warns', () => {
    const pods: DestinationFacts['pods'] = [
      { cluster: 'icp', role: 'primary', ok: true, ready: 0, total: 0 },
      { cluster: 'iks', role: 'remote', ok: true, ready: 1, total: 1 },
    ];
    assert.deepEqual(judgeDestination(facts(pods, { iks: { state: 'up' } })), {
      level: 'ok',
      text: 'reviews v3: none on icp; 1 of 1 pod ready on iks (VPN tunnel to iks up)',
    });
    assert.deepEqual(judgeDestination(facts(pods, { iks: { state: 'down', reason: 'no IKE SA' } })), {
      level: 'fail',
      text: 'reviews v3: runs only on iks, and the VPN tunnel to iks is down (no IKE SA): its traffic would fail',
    });
    assert.equal(
      judgeDestination(facts(pods, { iks: { state: 'unknown', reason: 'exec forbidden' } })).level,
      'warn',
    );
  });

  it('fails a subset whose pods exist but none is ready', () => {
    const check = judgeDestination(
      facts([
        { cluster: 'icp', role: 'primary', ok: true, ready: 0, total: 0 },
        { cluster: 'iks', role: 'remote', ok: true, ready: 0, total: 2 },
      ]),
    );
    assert.deepEqual(check, {
      level: 'fail',
      text: 'reviews v3: no ready pods in any cluster (none on icp; 0 of 2 pods ready on iks)',
    });
  });
});

describe("pre-flight: the DestinationRule's TLS mode against the mesh's mutual TLS (Istio 1.0)", () => {
  const withMode = (mode?: string) => [{ ...RULES[0]!, ...(mode ? { tlsMode: mode } : {}) }];
  const source = 'MeshPolicy default on icp';

  it('reads the MeshPolicy as pilot 1.0.2 does: an mtls peer is STRICT unless its mode is PERMISSIVE', () => {
    assert.equal(meshPolicyMode({ peers: [{ mtls: {} }] }), 'STRICT');
    assert.equal(meshPolicyMode({ peers: [{ mtls: null }] }), 'STRICT');
    assert.equal(meshPolicyMode({ peers: [{ mtls: { allowTls: true } }] }), 'STRICT');
    assert.equal(meshPolicyMode({ peers: [{ mtls: { mode: 'PERMISSIVE' } }] }), 'PERMISSIVE');
    assert.equal(meshPolicyMode({ peers: [] }), 'off');
    assert.equal(meshPolicyMode({}), 'off');
  });

  it("a Policy naming the service beats the namespace's, which beats the mesh-wide setting", () => {
    const ns = { name: 'default', spec: { peers: [] } };
    const reviews = { name: 'reviews-mtls', spec: { targets: [{ name: 'reviews' }], peers: [{ mtls: {} }] } };
    const ratings = {
      name: 'ratings-mtls',
      spec: { targets: [{ name: 'ratings.default.svc.cluster.local' }] },
    };
    assert.equal(policyFor(v3, [ns, ratings, reviews])?.name, 'reviews-mtls');
    assert.equal(policyFor(v3, [ratings, ns])?.name, 'default');
    assert.equal(policyFor(v3, [ratings]), undefined);
  });

  it('STRICT needs ISTIO_MUTUAL; off refuses ISTIO_MUTUAL; PERMISSIVE accepts both', () => {
    const strict = { mode: 'STRICT' as const, source };
    assert.equal(tlsFit(v3, withMode('ISTIO_MUTUAL'), strict), undefined);
    for (const mode of [undefined, 'DISABLE', 'SIMPLE', 'MUTUAL'])
      assert.equal(tlsFit(v3, withMode(mode), strict)?.level, 'fail', String(mode));
    assert.match(
      tlsFit(v3, withMode(), strict)?.text ?? '',
      /^reviews v3: DestinationRule reviews sets no tls\.mode, but the mesh requires mutual TLS \(MeshPolicy default on icp\)/,
    );
    const off = { mode: 'off' as const, source };
    assert.equal(tlsFit(v3, withMode('ISTIO_MUTUAL'), off)?.level, 'fail');
    assert.equal(tlsFit(v3, withMode('DISABLE'), off), undefined);
    assert.equal(tlsFit(v3, withMode(), off), undefined);
    const permissive = { mode: 'PERMISSIVE' as const, source };
    for (const mode of [undefined, 'DISABLE', 'ISTIO_MUTUAL'])
      assert.equal(tlsFit(v3, withMode(mode), permissive), undefined);
    assert.equal(tlsFit(v3, withMode('DISABLE'), undefined), undefined, 'no mesh config: nothing to compare');
  });
});
