import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from '../../src/sim/api/selectors.ts';

const pilot = { istio: 'pilot', app: 'pilot' };
const policy = { istio: 'mixer', 'istio-mixer-type': 'policy', app: 'policy' };
const bare = {};

function select(selector: string, labels: Record<string, string>): boolean {
  return matchesLabels(parseLabelSelector(selector), labels);
}

describe('label selectors', () => {
  it('matches equality with =, == and !=', () => {
    assert.equal(select('istio=pilot', pilot), true);
    assert.equal(select('istio==pilot', pilot), true);
    assert.equal(select('istio=pilot', policy), false);
    assert.equal(select('istio!=pilot', policy), true);
  });

  it('lets != and notin match objects without the key, as the apiserver does', () => {
    assert.equal(select('istio!=pilot', bare), true);
    assert.equal(select('istio notin (pilot)', bare), true);
    assert.equal(select('istio in (pilot)', bare), false);
  });

  it('handles set-based requirements with spaces and commas inside parentheses', () => {
    assert.equal(select('istio in (mixer, pilot),istio-mixer-type=policy', policy), true);
    assert.equal(select('istio in (mixer,pilot), istio-mixer-type notin (policy)', policy), false);
  });

  it('handles existence and non-existence', () => {
    assert.equal(select('istio-mixer-type', policy), true);
    assert.equal(select('!istio-mixer-type', policy), false);
    assert.equal(select('!istio-mixer-type', pilot), true);
  });

  it('accepts prefixed keys and an empty selector', () => {
    assert.equal(select('istio/multiCluster=true', { 'istio/multiCluster': 'true' }), true);
    assert.equal(select('', bare), true);
  });

  it('rejects malformed requirements', () => {
    assert.throws(() => parseLabelSelector('app=(x'), SelectorError);
    assert.throws(() => parseLabelSelector('app in x'), SelectorError);
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
  });
});
