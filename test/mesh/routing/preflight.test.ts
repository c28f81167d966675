import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SelectorError, selectorText } from '../../../src/config/selector.ts';
import { makePlan, presetTargets } from '../../../src/mesh/routing/plan.ts';
import {
  type DestinationFacts,
  destinationsOf,
  judgeDestination,
  resolveHost,
  subsetLabels,
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
