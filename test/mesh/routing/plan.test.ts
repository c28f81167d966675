import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  diffStat,
  type LiveVirtualService,
  makePlan,
  matchingPresets,
  presetTargets,
  sameSpec,
} from '../../../src/mesh/routing/plan.ts';
import { DEFAULT_PRESETS_DIR, loadPresets } from '../../../src/mesh/routing/presets.ts';

const presets = loadPresets(DEFAULT_PRESETS_DIR, 'default');
const preset = (name: string) => presets.find((p) => p.name === name)!;

/** The live state as a preset would leave it, at some resourceVersion. */
function liveFrom(name: string, rv = '100'): Map<string, LiveVirtualService> {
  return new Map(
    preset(name).virtualServices.map((v) => [
      `${v.ref.namespace}/${v.ref.name}`,
      { ref: v.ref, resourceVersion: rv, spec: structuredClone(v.spec) },
    ]),
  );
}

describe('plans and diffs', () => {
  it('diffs only what changes, as compact unified diff of normalized YAML', () => {
    const plan = makePlan(presetTargets(preset('reviews-v3')), liveFrom('all-v1'), 'reviews-v3');
    assert.equal(plan.changes.length, 1);
    assert.equal(plan.changes[0]!.resourceVersion, '100');
    assert.equal(
      plan.diff,
      [
        '--- live default/reviews',
        '+++ reviews-v3 default/reviews',
        '@@ -5,3 +5,3 @@',
        '       - destination:',
        '           host: reviews',
        '-          subset: v1',
        '+          subset: v3',
      ].join('\n'),
    );
    assert.equal(diffStat(plan.diff), '+1 −1');
    assert.match(plan.hash, /^[0-9a-f]{64}$/);
  });

  it('binds the plan to its diff: same live state, same hash; another live state, another hash', () => {
    const a = makePlan(presetTargets(preset('reviews-v3')), liveFrom('all-v1'), 'reviews-v3');
    const b = makePlan(presetTargets(preset('reviews-v3')), liveFrom('all-v1', '999'), 'reviews-v3');
    const c = makePlan(presetTargets(preset('reviews-v3')), liveFrom('reviews-50-v3'), 'reviews-v3');
    assert.equal(a.hash, b.hash);
    assert.notEqual(a.hash, c.hash);
  });

  it('plans creation and deletion, and nothing when the live state already matches', () => {
    const created = makePlan(presetTargets(preset('all-v1')), liveFrom('reviews-v3'), 'all-v1');
    assert.deepEqual(
      created.changes.map((c) => `${c.ref.name}:${c.resourceVersion ?? 'absent'}`),
      ['productpage:absent', 'reviews:100', 'ratings:absent', 'details:absent'],
    );
    assert.match(created.diff, /^--- \(absent\) default\/productpage$/m);
    const deleted = makePlan(
      [{ ref: { namespace: 'default', name: 'reviews' }, spec: null }],
      liveFrom('reviews-v3'),
      'rollback',
    );
    assert.match(deleted.diff, /^\+\+\+ \(deleted\) default\/reviews$/m);
    const none = makePlan(presetTargets(preset('all-v1')), liveFrom('all-v1'), 'all-v1');
    assert.deepEqual(none.changes, []);
    assert.equal(none.diff, '');
  });

  it('treats key order and null fields as the same spec', () => {
    assert.ok(
      sameSpec(
        { hosts: ['reviews'], http: [{ route: [{ destination: { subset: 'v1', host: 'reviews' } }] }] },
        {
          http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }], timeout: undefined }],
          hosts: ['reviews'],
          tcp: null,
        } as never,
      ),
    );
    assert.ok(!sameSpec({ hosts: ['reviews'] }, { hosts: ['ratings'] }));
  });

  it('says which presets the live state matches', () => {
    assert.deepEqual(matchingPresets(presets, liveFrom('all-v1')), ['all-v1']);
    assert.deepEqual(matchingPresets(presets, liveFrom('reviews-jason-v2-v3')), ['reviews-jason-v2-v3']);
    const edited = liveFrom('reviews-v3');
    edited.get('default/reviews')!.spec.http![0]!.timeout = '3s';
    assert.deepEqual(matchingPresets(presets, edited), []);
  });
});
