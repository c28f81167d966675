// The simulated mesh's request telemetry: what its routes send, with faults, as Istio 1.0's Mixer
// and modern in-proxy telemetry label it, scraped by a real Prometheus and read through the API
// server's service proxy.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { onPath } from '../../src/demo/redis.ts';
import type { SimMesh } from '../../src/sim/index.ts';
import { type RunningPrometheus, startPrometheus } from '../helpers/prometheus.ts';
import { raw, routeReviews, startTestMesh } from './helpers.ts';

type TestMesh = Awaited<ReturnType<typeof startTestMesh>>;

/** The metric lines for reviews as served now, after `ms` of traffic. */
async function reviewsLines(mesh: SimMesh, ms = 300): Promise<string[]> {
  await fetch(mesh.metrics.url).then((r) => r.text());
  await sleep(ms);
  const text = await fetch(mesh.metrics.url).then((r) => r.text());
  return text
    .split('\n')
    .filter((l) => l.includes('destination_service="reviews.default.svc.cluster.local"'));
}

const has = (lines: string[], ...parts: string[]) => lines.some((l) => parts.every((p) => l.includes(p)));

describe('request telemetry on the seed (Istio 1.0, Mixer)', () => {
  let t: TestMesh;
  before(async () => {
    t = await startTestMesh();
  });
  afterEach(() => t.mesh.faults.reset());
  after(() => t.stop());

  it("names Mixer's metrics and sends reviews where the applied VirtualService says (all v1)", async () => {
    const lines = await reviewsLines(t.mesh);
    assert.ok(
      has(
        lines,
        'istio_requests_total{reporter="destination"',
        'destination_version="v1"',
        'response_code="200"',
      ),
    );
    assert.ok(has(lines, 'istio_request_duration_seconds_bucket{', 'le="0.01"'));
    assert.ok(!has(lines, 'istio_request_duration_milliseconds'));
    assert.ok(!has(lines, 'destination_version="v3"'));
  });

  it('labels reviews-v3 on the remote cluster "unknown", as Mixer 1.0 cannot see remote pods', async () => {
    routeReviews(t.mesh, [['v3', 100]]);
    const lines = await reviewsLines(t.mesh);
    assert.ok(
      has(
        lines,
        'istio_requests_total{reporter="destination"',
        'destination_version="unknown"',
        'destination_workload="unknown"',
      ),
    );
    assert.ok(!has(lines, 'destination_version="v3"'));
  });

  it('answers 503 to the faulted share and adds latency', async () => {
    t.mesh.setTraffic('reviews', 'v2', { errorRate: 0.3, addedLatencyMs: 400 });
    routeReviews(t.mesh, [
      ['v1', 50],
      ['v2', 50],
    ]);
    const lines = await reviewsLines(t.mesh, 600);
    assert.ok(has(lines, 'istio_requests_total{', 'destination_version="v2"', 'response_code="503"'));
    assert.ok(!has(lines, 'istio_requests_total{', 'destination_version="v1"', 'response_code="503"'));
    // Every v2 answer takes 400 ms more: none within 250 ms.
    const v2Fast = lines.find(
      (l) =>
        l.includes('destination_version="v2"') &&
        l.includes('reporter="destination"') &&
        l.includes('response_code="200"') &&
        l.includes('le="0.25"'),
    );
    assert.equal(v2Fast?.split(' ').pop(), '0');
  });
});

describe('request telemetry on the modern scenario (in-proxy)', () => {
  let t: TestMesh;
  before(async () => {
    t = await startTestMesh({ scenario: 'modern' });
  });
  after(() => t.stop());

  it('names the millisecond histogram and labels remote pods with their version and cluster', async () => {
    routeReviews(t.mesh, [['v3', 100]]);
    const lines = await reviewsLines(t.mesh);
    assert.ok(has(lines, 'istio_request_duration_milliseconds_bucket{'));
    assert.ok(has(lines, 'istio_requests_total{', 'destination_version="v3"', 'destination_cluster="iks"'));
  });
});

describe('request telemetry across a routing write', () => {
  let t: TestMesh;
  before(async () => {
    t = await startTestMesh({ scenario: 'modern' });
  });
  after(() => t.stop());

  it('counts the traffic before the write along the old routes, not the new ones', async () => {
    await fetch(t.mesh.metrics.url).then((r) => r.text());
    // Half a second of reviews traffic, all to v1 (20 requests/s: about 10 requests).
    await sleep(500);
    routeReviews(t.mesh, [['v2', 100]]);
    const text = await fetch(t.mesh.metrics.url).then((r) => r.text());
    const count = (version: string) =>
      text
        .split('\n')
        .filter(
          (l) =>
            l.startsWith('istio_requests_total{reporter="destination"') &&
            l.includes('reviews.default.svc') &&
            l.includes(`destination_version="${version}"`),
        )
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    assert.ok(count('v2') <= 1, `v2 got ${count('v2')} requests sent before it was routed to`);
    assert.ok(count('v1') >= 8, `v1 got ${count('v1')}`);
  });
});

describe('a real Prometheus behind the API server service proxy', {
  skip: !onPath('prometheus') && 'prometheus is not installed',
}, () => {
  let t: TestMesh;
  let prom: RunningPrometheus;
  before(async () => {
    t = await startTestMesh();
    prom = await startPrometheus({ targets: [t.mesh.metrics.target] });
  });
  after(async () => {
    await prom.stop();
    await t.stop();
  });

  it('503 "no endpoints" until the Service has a backend, 404 for a Service that does not exist', async () => {
    const path = '/api/v1/namespaces/istio-system/services/prometheus:9090/proxy/api/v1/query?query=up';
    const none = await raw(t.mesh, 'icp', 'GET', path);
    assert.equal(none.status, 503);
    assert.match(none.body, /no endpoints available for service \\"prometheus:9090\\"/);
    const missing = await raw(t.mesh, 'icp', 'GET', path.replace('prometheus:9090', 'nope:9090'));
    assert.equal(missing.status, 404);
  });

  it('proxies PromQL to Prometheus, which has scraped the mesh', async () => {
    t.mesh.connectService('icp', 'istio-system', 'prometheus', 9090, prom.url);
    const query = encodeURIComponent('sum(istio_requests_total{reporter="destination"}) > 0');
    let result: unknown[] = [];
    for (let i = 0; i < 50 && result.length === 0; i++) {
      const res = await raw(
        t.mesh,
        'icp',
        'GET',
        `/api/v1/namespaces/istio-system/services/prometheus:9090/proxy/api/v1/query?query=${query}`,
      );
      assert.equal(res.status, 200);
      result = (JSON.parse(res.body) as { data: { result: unknown[] } }).data.result;
      if (result.length === 0) await sleep(200);
    }
    assert.equal(result.length, 1);
  });
});
