import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judge, type Thresholds } from '../../../../src/mesh/routing/verify/judge.ts';
import { serviceQueries } from '../../../../src/mesh/routing/verify/queries.ts';
import { attributeUnknown, type ServiceStats } from '../../../../src/mesh/routing/verify/read.ts';
import { watchedServices } from '../../../../src/mesh/routing/verify/services.ts';
import { presetSpec } from '../world.ts';

const T: Thresholds = { maxErrorRate: 0.05, maxLatencyRatio: 2, minRequests: 20 };
const stats = (byVersion: ServiceStats['byVersion'], p99AllMs: number | null = 90): ServiceStats => ({
  byVersion,
  p99AllMs,
});
const BEFORE = { reviews: stats({ v1: { requests: 6000, errors: 0, p99Ms: 90 } }) };

describe('judging a reading against the window before the change', () => {
  it('breaches on a 5xx share above the threshold, naming the numbers', () => {
    const j = judge({ reviews: stats({ v3: { requests: 100, errors: 31, p99Ms: 95 } }) }, BEFORE, T);
    assert.equal(j.verdict, 'breach');
    assert.deepEqual(j.versions[0]!.reasons, ['5xx 31.0 % > 5.0 %']);
  });

  it('judges a version without traffic before against the whole service’s p99', () => {
    const j = judge({ reviews: stats({ v3: { requests: 100, errors: 0, p99Ms: 495 } }) }, BEFORE, T);
    assert.equal(j.verdict, 'breach');
    assert.equal(j.versions[0]!.baselineP99Ms, 90);
    assert.match(j.versions[0]!.reasons[0]!, /p99 495 ms = 5\.5× the baseline 90 ms > 2×/);
  });

  it('is ok at exactly the thresholds, and with a p99 within the ratio', () => {
    const j = judge({ reviews: stats({ v3: { requests: 100, errors: 5, p99Ms: 180 } }) }, BEFORE, T);
    assert.equal(j.verdict, 'ok');
  });

  it('says too little traffic to judge below the minimum, even at 100 % errors', () => {
    const j = judge({ reviews: stats({ v3: { requests: 19, errors: 19, p99Ms: 9000 } }) }, BEFORE, T);
    assert.equal(j.verdict, 'too-little');
    assert.deepEqual(j.versions[0]!.reasons, []);
  });

  it('does not judge a version the change moved all traffic away from', () => {
    const j = judge(
      {
        reviews: stats({
          v1: { requests: 0, errors: 0, p99Ms: null },
          v3: { requests: 50, errors: 0, p99Ms: 90 },
        }),
      },
      BEFORE,
      T,
    );
    assert.deepEqual(
      j.versions.map((v) => v.version),
      ['v3'],
    );
  });

  it('judges latency not at all without a baseline (a Prometheus with no history), errors still', () => {
    const j = judge({ reviews: stats({ v3: { requests: 100, errors: 50, p99Ms: 5000 } }) }, {}, T);
    assert.equal(j.versions[0]!.latencyRatio, null);
    assert.deepEqual(j.versions[0]!.reasons, ['5xx 50.0 % > 5.0 %']);
  });
});

describe('Istio 1.0: remote pods labelled destination_version="unknown"', () => {
  const unknown = { requests: 100, errors: 30, p99Ms: 90 };
  it('is the one routed version without series of its own', () => {
    const s = attributeUnknown(stats({ v1: { requests: 10, errors: 0, p99Ms: 9 }, unknown }), ['v1', 'v3']);
    assert.deepEqual(Object.keys(s.byVersion).sort(), ['v1', 'v3']);
    assert.equal(s.byVersion.v3, unknown);
  });

  it('stays "unknown" (and is judged) when two routed versions have no series', () => {
    const s = attributeUnknown(stats({ unknown }), ['v2', 'v3']);
    assert.deepEqual(Object.keys(s.byVersion), ['unknown']);
    assert.equal(judge({ reviews: s }, BEFORE, T).verdict, 'breach');
  });
});

describe('PromQL per profile', () => {
  it('reads seconds on Istio 1.0 and milliseconds on modern Istio, server-side reports only', () => {
    const old = serviceQueries('istio-1.0', 'reviews.default.svc.cluster.local', 60_000);
    assert.match(
      old.p99,
      /istio_request_duration_seconds_bucket\{reporter="destination",destination_service="reviews\.default\.svc\.cluster\.local"\}\[60s\]\)\)\) \* 1000$/,
    );
    const modern = serviceQueries('modern', 'reviews.default.svc.cluster.local', 1_500);
    assert.match(modern.p99, /istio_request_duration_milliseconds_bucket\{.*\}\[2s\]\)\)\)$/);
    assert.match(modern.errors, /response_code=~"5\.\."/);
  });

  it('quotes a hostile service name instead of breaking out of the selector', () => {
    const q = serviceQueries('modern', 'x"} or vector(1) #', 60_000);
    assert.ok(q.requests.includes('destination_service="x\\"} or vector(1) #"'));
  });
});

describe('what a change touches', () => {
  it('reviews, routed to v3 by the subset’s version label', () => {
    const services = watchedServices(
      [
        {
          ref: { namespace: 'default', name: 'reviews' },
          before: presetSpec('all-v1'),
          after: presetSpec('reviews-v3'),
          resourceVersion: '1',
        },
      ],
      [
        {
          name: 'reviews',
          namespace: 'default',
          host: 'reviews',
          subsets: [{ name: 'v3', labels: { version: 'v3' } }],
        },
      ],
    );
    assert.deepEqual(services, [
      { name: 'reviews', fqdn: 'reviews.default.svc.cluster.local', routed: ['v3'] },
    ]);
  });
});
