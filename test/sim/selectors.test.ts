import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SelectorError } from '../../src/config/selector.ts';
import { matchesFields, parseFieldSelector } from '../../src/sim/api/selectors.ts';

// Label selectors are shared with meshops: test/config/selector.test.ts.

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
