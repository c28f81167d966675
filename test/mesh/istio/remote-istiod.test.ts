import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { istiodObjectOf } from '../../../src/mesh/istio/remote-istiod.ts';

describe("which object holds istiod's address on a modern remote", () => {
  it('Endpoints up to Istio 1.27, an EndpointSlice from 1.28 (istio/istio#57039); none without a version', () => {
    assert.equal(istiodObjectOf('1.24.2'), 'Endpoints');
    assert.equal(istiodObjectOf('1.27.3-distroless'), 'Endpoints');
    assert.equal(istiodObjectOf('1.28.0'), 'EndpointSlice');
    assert.equal(istiodObjectOf('1.29.1'), 'EndpointSlice');
    assert.equal(istiodObjectOf('2.0.0'), 'EndpointSlice');
    assert.equal(istiodObjectOf('latest'), undefined);
    assert.equal(istiodObjectOf(undefined), undefined);
  });
});
