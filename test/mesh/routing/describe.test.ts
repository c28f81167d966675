import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeVirtualService } from '../../../src/mesh/routing/describe.ts';
import { DEFAULT_PRESETS_DIR, loadPresets } from '../../../src/mesh/routing/presets.ts';
import type { VirtualServiceSpec } from '../../../src/mesh/routing/types.ts';

describe('routes in plain words', () => {
  it('describes every shipped preset from its rules', () => {
    const words = Object.fromEntries(
      loadPresets(DEFAULT_PRESETS_DIR, 'default').map((p) => [
        p.name,
        p.virtualServices.map((v) => describeVirtualService(v.ref.name, v.spec)),
      ]),
    );
    assert.deepEqual(words, {
      'all-v1': [
        'productpage: everyone → v1',
        'reviews: everyone → v1',
        'ratings: everyone → v1',
        'details: everyone → v1',
      ],
      'reviews-v3': ['reviews: everyone → v3'],
      'reviews-50-v3': ['reviews: 50% v1, 50% v3'],
      'reviews-90-10': ['reviews: 90% v1, 10% v2'],
      'reviews-v2-v3': ['reviews: 50% v2, 50% v3'],
      'reviews-jason-v2-v3': ['reviews: end-user jason → v2, everyone else → v3'],
      'reviews-test-v2': ['reviews: end-user jason → v2, everyone else → v1'],
    });
  });

  it('covers the match kinds, other hosts, faults and L4 routes', () => {
    const spec: VirtualServiceSpec = {
      hosts: ['ratings.default.svc.cluster.local'],
      gateways: ['bookinfo-gateway'],
      http: [
        {
          match: [
            { uri: { prefix: '/api' }, headers: { 'x-canary': { regex: 'yes|1' } } },
            { sourceLabels: { app: 'reviews', version: 'v2' } },
          ],
          route: [{ destination: { host: 'ratings', subset: 'v2' } }],
          fault: { delay: { fixedDelay: '7s', percentage: { value: 100 } } },
          timeout: '0.5s',
        },
        {
          route: [{ destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } } }],
          mirror: { host: 'ratings', subset: 'v2' },
        },
      ],
      tcp: [{ match: [{ port: 27017 }], route: [{ destination: { host: 'mongodb' } }] }],
    };
    assert.equal(
      describeVirtualService('ratings', spec),
      'ratings: on bookinfo-gateway: path starting with /api and x-canary matching /yes|1/ or from app=reviews,version=v2 → v2 (delay 7s for 100%, timeout 0.5s), everyone else → reviews:9080 v1 (mirrored to v2), tcp port 27017 → mongodb',
    );
  });
});
