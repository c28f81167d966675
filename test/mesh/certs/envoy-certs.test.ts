import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCerts, parsePemFiles } from '../../../src/mesh/certs/envoy-certs.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/proxies/${name}`, import.meta.url), 'utf8');

describe("Envoy's admin /certs", () => {
  it('Istio 1.0: text blocks, one per TLS context, not one JSON document', () => {
    const r = parseCerts(fixture('certs-1.0.txt'), Date.now());
    assert.equal(r.kind, 'certs');
    if (r.kind !== 'certs') return;
    assert.equal(r.source, 'envoy-1.0');
    assert.deepEqual(r.certs.roots, [{ serial: 'd0d6b8d7c2e4c3f3c1c7e0b9a4f5e6d7', days: 312 }]);
    assert.deepEqual(r.certs.workload, { serial: '3a9f1e0c7b5d2a4e6f8c1b3d5e7f9a0b', days: 87 });
  });

  it('modern: JSON with days as strings; the timestamps decide (an expired cert once showed a positive count)', () => {
    const now = Date.parse('2019-06-21T12:00:00Z');
    const r = parseCerts(fixture('certs-modern.json'), now);
    assert.equal(r.kind, 'certs');
    if (r.kind !== 'certs') return;
    assert.equal(r.source, 'envoy');
    assert.equal(r.certs.roots.length, 1, 'one root, listed by every context, counted once');
    assert.equal(r.certs.roots[0]!.serial, '5e01882fc8ef46479ab6415e10e0c84b');
    assert.equal(r.certs.roots[0]!.days, 328);
    assert.equal(r.certs.workload!.days, 0);
    assert.equal(r.certs.workload!.lifetimeDays, 1);
    const later = parseCerts(fixture('certs-modern.json'), Date.parse('2019-06-23T12:00:00Z'));
    assert.equal(later.kind === 'certs' && later.certs.workload!.days, -2);
  });

  it('an empty answer is a proxy without TLS contexts; garbage is said to be garbage', () => {
    assert.deepEqual(parseCerts('', 0), { kind: 'empty' });
    assert.deepEqual(parseCerts('{"certificates":[]}', 0), { kind: 'empty' });
    assert.equal(parseCerts('<html>', 0).kind, 'unparsed');
    assert.equal(parseCerts('{"certificates":"x"}', 0).kind, 'unparsed');
  });

  it('PEM files that do not parse are reported, not thrown', () => {
    const r = parsePemFiles('-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----', '', 0);
    assert.equal(r.kind, 'unparsed');
    assert.deepEqual(parsePemFiles('', '', 0), { kind: 'empty' });
  });
});
