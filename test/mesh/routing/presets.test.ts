import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../../../src/config/load.ts';
import { DEFAULT_PRESETS_DIR, loadPresets, parsePreset } from '../../../src/mesh/routing/presets.ts';

const FIXTURES = new URL('../../fixtures/routing/', import.meta.url);
const BOOKINFO = [
  'all-v1',
  'reviews-v3',
  'reviews-50-v3',
  'reviews-90-10',
  'reviews-v2-v3',
  'reviews-jason-v2-v3',
  'reviews-test-v2',
];

const docs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null);

function problemsOf(text: string, file = '/presets/bad.yaml'): string[] {
  return parsePreset(file, text, 'default').problems;
}

const REVIEWS = (route: string) => `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
${route}`;

describe('routing presets', () => {
  it('ships exactly bookinfo’s seven presets, each parsing to the original Istio 1.0.2 documents', () => {
    const presets = loadPresets(DEFAULT_PRESETS_DIR, 'default');
    assert.deepEqual(presets.map((p) => p.name).sort(), [...BOOKINFO].sort());
    for (const name of BOOKINFO) {
      const ours = docs(readFileSync(join(DEFAULT_PRESETS_DIR, `${name}.yaml`), 'utf8'));
      const original = docs(
        readFileSync(new URL(`bookinfo-1.0.2/virtual-service-${name}.yaml`, FIXTURES), 'utf8'),
      );
      assert.deepEqual(ours, original, `${name} differs from bookinfo's file`);
    }
    const allV1 = presets.find((p) => p.name === 'all-v1')!;
    assert.deepEqual(
      allV1.virtualServices.map((v) => `${v.ref.namespace}/${v.ref.name}@${v.version}`),
      [
        'default/productpage@v1alpha3',
        'default/reviews@v1alpha3',
        'default/ratings@v1alpha3',
        'default/details@v1alpha3',
      ],
    );
  });

  it('accepts the networking.istio.io/v1 form of a preset (Istio master)', () => {
    const text = readFileSync(new URL('virtual-service-reviews-jason-v2-v3.master.yaml', FIXTURES), 'utf8');
    const { preset, problems } = parsePreset('/p/jason.yaml', text, 'shop');
    assert.deepEqual(problems, []);
    assert.equal(preset?.virtualServices[0]?.version, 'v1');
    assert.deepEqual(preset?.virtualServices[0]?.ref, { namespace: 'shop', name: 'reviews' });
  });

  it('names file, document and field for a misspelt field, with a did-you-mean', () => {
    const problems = problemsOf(
      REVIEWS(`  - route:
    - destination: {host: reviews, subset: v1}
      wieght: 100
`),
    );
    assert.deepEqual(problems, [
      '/presets/bad.yaml: document 1 of 1 (reviews): spec.http[0].route[0].wieght: unknown field (did you mean "weight"?); allowed here: destination, headers, weight',
    ]);
  });

  it('checks types, required fields, one-of matches, durations and weights against the CRD schema', () => {
    const problems = problemsOf(
      REVIEWS(`  - match:
    - headers:
        end-user: {exact: jason, prefix: j}
    route:
    - destination: {subset: v2}
      weight: "50"
    - destination: {host: reviews, subset: v3}
      weight: 40
    timeout: 5
    retries: {attempts: 2, perTryTimeout: 0.5ms}
`),
    ).map((p) => p.replace('/presets/bad.yaml: document 1 of 1 (reviews): ', ''));
    assert.deepEqual(problems.sort(), [
      'spec.http[0].match[0].headers.end-user: sets more than one of its alternatives (e.g. exact and prefix together); keep one',
      'spec.http[0].retries.perTryTimeout: must be a valid duration greater than 1ms (got "0.5ms")',
      'spec.http[0].route[0].destination.host: is required',
      'spec.http[0].route[0].weight: must be integer, not string "50"',
      'spec.http[0].timeout: must be string, not number 5',
    ]);
    const weights = problemsOf(
      REVIEWS(`  - route:
    - destination: {host: reviews, subset: v1}
      weight: 90
    - destination: {host: reviews, subset: v2}
      weight: 20
`),
    );
    assert.deepEqual(weights, [
      '/presets/bad.yaml: document 1 of 1 (reviews): spec.http[0].route: weights add up to 110; with several destinations they must add up to 100',
    ]);
  });

  it('names the document (counted from 1) and checks the manifest around the spec', () => {
    const problems = problemsOf(`${REVIEWS(`  - route: [{destination: {host: reviews}}]\n`)}---
apiVersion: networking.istio.io/v1alpha2
kind: VirtualServic
metadata: {name: Ratings, labels: {team: a}}
spec: {hosts: [ratings], http: [{route: [{destination: {host: ratings}}]}]}
status: {}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
`);
    assert.deepEqual(problems, [
      '/presets/bad.yaml: document 2 of 3 (Ratings): status: is written by Istio, not by presets; remove it',
      '/presets/bad.yaml: document 2 of 3 (Ratings): apiVersion: must be one of networking.istio.io/v1alpha3, networking.istio.io/v1beta1, networking.istio.io/v1, not "networking.istio.io/v1alpha2"',
      '/presets/bad.yaml: document 2 of 3 (Ratings): kind: must be VirtualService, not "VirtualServic"',
      '/presets/bad.yaml: document 2 of 3 (Ratings): metadata.labels: presets set only metadata.name and metadata.namespace (the spec is what they change)',
      '/presets/bad.yaml: document 2 of 3 (Ratings): metadata.name: must be a Kubernetes name (lowercase letters, digits, - and .), not "Ratings"',
      '/presets/bad.yaml: document 3 of 3 (reviews): VirtualService default/reviews appears twice in this preset',
    ]);
  });

  it('refuses broken YAML, empty files, untypeable names and empty folders', () => {
    assert.match(problemsOf('spec: [\n')[0]!, /^\/presets\/bad\.yaml: document 1 of 1: not valid YAML: /);
    assert.deepEqual(problemsOf('# nothing\n'), [
      '/presets/bad.yaml: holds no VirtualService (a preset needs at least one)',
    ]);
    assert.match(
      problemsOf(REVIEWS('  - route: [{destination: {host: reviews}}]\n'), '/presets/my preset.yaml')[0]!,
      /the file name "my preset" cannot be typed in \/mesh route apply/,
    );
    const empty = mkdtempSync(join(tmpdir(), 'meshops-presets-'));
    assert.throws(
      () => loadPresets(empty, 'default'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /holds no \.yaml preset files/);
        return true;
      },
    );
    assert.throws(() => loadPresets(join(empty, 'missing'), 'default'), /does not exist/);
  });

  it('collects the problems of every file at once, so one start-up shows them all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-presets-'));
    writeFileSync(
      join(dir, 'good.yaml'),
      REVIEWS('  - route: [{destination: {host: reviews, subset: v1}}]\n'),
    );
    writeFileSync(join(dir, 'a.yaml'), REVIEWS('  - route: [{destination: {host: reviews}, wieght: 1}]\n'));
    writeFileSync(join(dir, 'b.yml'), 'kind: Service\n');
    assert.throws(
      () => loadPresets(dir, 'default'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 5, err.message);
        assert.match(
          err.problems[0]!,
          /a\.yaml: document 1 of 1 \(reviews\): spec\.http\[0\]\.route\[0\]\.wieght: unknown field/,
        );
        assert.match(err.problems[1]!, /b\.yml: document 1 of 1: apiVersion: must be one of/);
        assert.match(err.problems[4]!, /b\.yml: document 1 of 1: spec: is required/);
        return true;
      },
    );
  });
});
