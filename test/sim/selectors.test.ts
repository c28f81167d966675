import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelSelector, matchLabelsSelector, SelectorError } from '../../src/sim/api/label-selector.ts';
import { matchesFields, parseFieldSelector } from '../../src/sim/api/selectors.ts';

// The simulation's own label selectors (apimachinery pkg/labels/selector.go); meshops' are tested in
// test/config/selector.test.ts.

describe('label selectors', () => {
  const pilot = { istio: 'pilot', app: 'pilot', 'istio.io/rev': 'default' };
  const matches = (selector: string, labels = pilot) => labelSelector(selector)(labels);

  it('matches =, ==, !=, in, notin, exists and !key, comma meaning AND', () => {
    assert.equal(matches('istio=pilot'), true);
    assert.equal(matches('istio==pilot,app=pilot'), true);
    assert.equal(matches('istio!=pilot'), false);
    assert.equal(matches('istio in (mixer, pilot)'), true);
    assert.equal(matches('istio notin (mixer,pilot)'), false);
    assert.equal(matches('istio.io/rev'), true);
    assert.equal(matches('!istio'), false);
    assert.equal(matches('istio,!version'), true);
    assert.equal(matches(''), true, 'the empty selector selects everything');
  });

  it('!= and notin also select objects without the key; = and in do not', () => {
    assert.equal(matches('version!=v1'), true);
    assert.equal(matches('version notin (v1)'), true);
    assert.equal(matches('version=v1'), false);
    assert.equal(matches('version in (v1)'), false);
    assert.equal(labelSelector('app')(undefined), false);
  });

  it('refuses what the apiserver refuses', () => {
    for (const bad of [
      'app in (a',
      'app=b c',
      `${'a'.repeat(64)}=x`,
      'app=,',
      ',app',
      'app in a',
      '=x',
      'a/b/c=x',
    ])
      assert.throws(() => labelSelector(bad), SelectorError, bad);
  });

  it('a matchLabels map selects pods carrying every label', () => {
    const selects = matchLabelsSelector({ app: 'pilot', istio: 'pilot' });
    assert.equal(selects(pilot), true);
    assert.equal(selects({ app: 'pilot' }), false);
    assert.equal(selects(undefined), false);
  });
});

describe('field selectors', () => {
  const pod = { metadata: { name: 'web-1', namespace: 'shop' }, status: { phase: 'Running' } };
  const fields = ['metadata.name', 'metadata.namespace', 'status.phase'];

  it('matches =, == and !=, comma meaning AND', () => {
    assert.equal(matchesFields(parseFieldSelector('status.phase=Running', fields), pod), true);
    assert.equal(
      matchesFields(parseFieldSelector('status.phase==Running,metadata.name=web-1', fields), pod),
      true,
    );
    assert.equal(matchesFields(parseFieldSelector('status.phase!=Running', fields), pod), false);
    assert.equal(matchesFields(parseFieldSelector('metadata.namespace!=default', fields), pod), true);
  });

  it('names the supported fields when one is unknown', () => {
    assert.throws(
      () => parseFieldSelector('foo.bar=baz', ['metadata.name', 'metadata.namespace']),
      /"foo.bar" is not a known field selector: only "metadata.name", "metadata.namespace"/,
    );
    assert.throws(() => parseFieldSelector('status.phase', ['status.phase']), SelectorError);
  });
});
