import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseSyncz, proxyState, XDS_TYPES, xdsStatus } from '../../../src/mesh/istio/syncz.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/proxies/${name}`, import.meta.url), 'utf8');

/** istioctl 1.0's columns for one parsed proxy: `CDS LDS EDS RDS` with EDS's percentage. */
function columns(text: string, pilot: string): string[] {
  const parsed = parseSyncz(text, pilot);
  assert.ok(parsed.ok);
  return parsed.proxies.map((p) =>
    [
      p.id,
      ...XDS_TYPES.map((t) =>
        t === 'eds' && p.status.eds !== 'NOT SENT' ? `${p.status.eds} (${p.endpointPercent}%)` : p.status[t],
      ),
      p.pilot,
      p.version,
    ].join(' | '),
  );
}

describe("pilot's /debug/syncz", () => {
  it('reads the Istio 1.0 shape into the statuses istioctl 1.0 prints for it', () => {
    const printed = fixture('istioctl-1.0.2-multiStatusMultiPilot.txt')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s{2,}/));
    const [one, two] = columns(fixture('syncz-1.0.2.json'), 'pilot1');
    // istioctl's row: PROXY CDS LDS EDS RDS PILOT VERSION; ours: id CDS LDS EDS RDS pilot version.
    assert.equal(one, printed[0]!.join(' | '));
    assert.equal(two!.replace('pilot1', 'pilot2'), printed[1]!.join(' | '));
  });

  it('reads the modern shape, with the cluster pilot names', () => {
    const parsed = parseSyncz(fixture('syncz-modern.json'), 'istiod-1');
    assert.ok(parsed.ok);
    assert.deepEqual(
      parsed.proxies.map((p) => [p.id, p.clusterId, p.version, proxyState(p)]),
      [
        ['proxy1', 'cluster1', '1.1', 'stale'],
        ['proxy2', 'cluster2', '1.1', 'stale'],
        ['proxy3', 'cluster3', '1.1', 'stale'],
      ],
    );
    assert.deepEqual(parsed.proxies[2]!.status, {
      cds: 'STALE',
      lds: 'NOT SENT',
      eds: 'STALE',
      rds: 'SYNCED',
    });
  });

  it('splits the node id into pod and namespace', () => {
    const parsed = parseSyncz('[{"proxy":"reviews-v3-7d8f9c6b5-x2x9z.default"}]', 'p');
    assert.ok(parsed.ok);
    assert.deepEqual(
      [parsed.proxies[0]!.pod, parsed.proxies[0]!.namespace],
      ['reviews-v3-7d8f9c6b5-x2x9z', 'default'],
    );
    assert.equal(proxyState(parsed.proxies[0]!), 'not-sent');
  });

  it('null (no proxy connected) is an empty list; anything else is refused with the pilot named', () => {
    assert.deepEqual(parseSyncz('null', 'p'), { ok: true, proxies: [] });
    const bad = parseSyncz('404 page not found', 'istio-pilot-x');
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.reason : '', /istio-pilot-x .* not JSON/);
    assert.equal(parseSyncz('{"proxy":1}', 'p').ok, false);
  });

  it("follows istioctl's rule per type", () => {
    assert.equal(xdsStatus(undefined, undefined), 'NOT SENT');
    assert.equal(xdsStatus('', 'a'), 'NOT SENT');
    assert.equal(xdsStatus('a', 'a'), 'SYNCED');
    assert.equal(xdsStatus('b', 'a'), 'STALE');
    assert.equal(xdsStatus('b', undefined), 'STALE');
  });
});
