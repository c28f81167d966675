import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesLabels, parseLabelSelector, SelectorError, selectorText } from '../../src/config/selector.ts';

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

  it('match like the API server: equality, inequality, sets, existence, combined', () => {
    const labels = { app: 'jaeger', istio: 'mixer', 'istio-mixer-type': 'policy' };
    const m = (selector: string) => select(selector, labels);
    assert.equal(m('istio-mixer-type=policy'), true);
    assert.equal(m('istio-mixer-type==policy,istio=mixer'), true);
    assert.equal(m('istio-mixer-type=telemetry'), false);
    assert.equal(m('istio!=pilot'), true);
    assert.equal(m('release!=x'), true, 'an absent key is not equal to anything');
    assert.equal(m('app in (jaeger, zipkin)'), true);
    assert.equal(m('app notin (jaeger)'), false);
    assert.equal(m('release notin (a)'), true);
    assert.equal(m('istio'), true);
    assert.equal(m('!istio'), false);
    assert.equal(m('!release, app=jaeger'), true);
  });

  it('accepts prefixed keys and an empty selector', () => {
    assert.equal(select('istio/multiCluster=true', { 'istio/multiCluster': 'true' }), true);
    assert.equal(select('app.kubernetes.io/name=x', { 'app.kubernetes.io/name': 'x' }), true);
    assert.equal(select('', bare), true);
  });

  it('refuses an empty selector when asked to, as meshops does for components', () => {
    assert.throws(() => parseLabelSelector('', { allowEmpty: false }), SelectorError);
    assert.throws(() => parseLabelSelector('  ', { allowEmpty: false }), /would match everything/);
    assert.deepEqual(parseLabelSelector(''), []);
  });

  it('does not mistake inherited object properties for labels', () => {
    assert.equal(select('constructor', bare), false);
    assert.equal(select('!toString', bare), true);
  });

  it('rejects malformed requirements with a SelectorError naming the part', () => {
    for (const bad of ['app=(x', 'app in x', 'app in (a', 'a=b=c', '=x', 'a b', 'a=b,', 'a/b/c=d', '!'])
      assert.throws(() => parseLabelSelector(bad), SelectorError, bad);
    assert.throws(() => parseLabelSelector('app in (a'), /unable to parse requirement "app in \(a"/);
    assert.throws(() => parseLabelSelector('app=b c'), /"b c" is not a label value/);
    assert.throws(() => parseLabelSelector(`${'a'.repeat(64)}=x`), /is not a label key/);
  });

  it('renders matchLabels as selector text that parses back to the same match', () => {
    const text = selectorText({ istio: 'mixer', 'istio-mixer-type': 'policy' });
    assert.equal(text, 'istio=mixer,istio-mixer-type=policy');
    assert.equal(select(text, policy), true);
    assert.equal(select(text, pilot), false);
  });
});
