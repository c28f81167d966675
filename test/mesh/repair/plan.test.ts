import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { V1ConfigMap, V1Endpoints } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { type DriftFinding, detectDrift, type PrimaryControlPlane } from '../../../src/mesh/istio/drift.ts';
import {
  type ConfiguredAddress,
  endpointsAddresses,
  meshConfigFacts,
  sliceAddresses,
} from '../../../src/mesh/istio/facts.ts';
import { type LiveObject, makeRepairPlan, planChanges } from '../../../src/mesh/repair/plan.ts';

/** The chart-rendered ConfigMap of the seed's iks, as it is stored (YAML with comments). */
const CHART_CM = parse(
  readFileSync(new URL('../../fixtures/repair/istio-remote-1.0.2-configmap.yaml', import.meta.url), 'utf8'),
) as V1ConfigMap;
const MESH = CHART_CM.data!.mesh!;

// The primary pod IPs the fixture was rendered with.
const PILOT = '10.1.151.122';
const POLICY = '10.1.25.241';
const TELEMETRY = '10.1.113.239';
const TRACING = '10.1.206.169';
const STATSD = '10.1.74.53';

const icp = (moved: Partial<Record<string, string[]>> = {}): PrimaryControlPlane => ({
  cluster: 'icp',
  profile: 'istio-1.0',
  components: {
    pilot: { live: moved.pilot ?? [PILOT], stable: ['10.0.0.28'] },
    policy: { live: moved.policy ?? [POLICY], stable: [] },
    telemetry: { live: moved.telemetry ?? [TELEMETRY], stable: [] },
    tracing: { live: moved.tracing ?? [TRACING], stable: [] },
    'statsd-prom-bridge': { live: moved['statsd-prom-bridge'] ?? [STATSD], stable: [] },
  },
});

/** Drift as the status check finds it: the remote's addresses (read by facts.ts) against the primary. */
function findingsOf(addresses: ConfiguredAddress[], primary: PrimaryControlPlane): DriftFinding[] {
  return detectDrift({ cluster: 'iks', profile: primary.profile, addresses, unresolved: [] }, primary);
}

const cmObject = (mesh: string): LiveObject => ({
  kind: 'ConfigMap',
  namespace: 'istio-system',
  name: 'istio',
  resourceVersion: '11',
  mesh,
});

function cmAddresses(mesh: string): ConfiguredAddress[] {
  const facts = meshConfigFacts({ metadata: { name: 'istio' }, data: { mesh } }, 'istio-system');
  assert.equal(facts.state, 'ok');
  return facts.state === 'ok' ? facts.addresses : [];
}

const plan10 = (objects: LiveObject[], findings: DriftFinding[]) =>
  makeRepairPlan({ remote: 'iks', primary: 'icp', profile: 'istio-1.0', findings, objects });

describe('the repair plan of an Istio 1.0 remote (pure)', () => {
  it('changes exactly the drifted addresses of the chart’s mesh config, keeping comments and layout', () => {
    const primary = icp({ pilot: ['10.1.231.182'], policy: ['10.1.9.4'] });
    const plan = plan10([cmObject(MESH)], findingsOf(cmAddresses(MESH), primary));
    assert.equal(plan.edits.length, 1);
    const edit = plan.edits[0]!;
    assert.equal(edit.kind, 'ConfigMap');
    const after = edit.kind === 'ConfigMap' ? edit.mesh : '';
    const changed = MESH.split('\n').flatMap((line, i) => {
      const now = after.split('\n')[i];
      return line === now ? [] : [[line, now]];
    });
    assert.deepEqual(changed, [
      [`mixerCheckServer: ${POLICY}:15004`, 'mixerCheckServer: 10.1.9.4:15004'],
      [`  discoveryAddress: ${PILOT}:15007`, '  discoveryAddress: 10.1.231.182:15007'],
    ]);
    assert.equal(after.split('\n').length, MESH.split('\n').length);
    // What the repaired text holds, read back the way the status check reads it.
    assert.deepEqual(
      cmAddresses(after).map((a) => `${a.component} ${a.value}`),
      [
        'pilot 10.1.231.182:15007',
        'policy 10.1.9.4:15004',
        `telemetry ${TELEMETRY}:15004`,
        `tracing ${TRACING}:9411`,
        `statsd-prom-bridge ${STATSD}:9125`,
      ],
    );
    assert.deepEqual(
      edit.changes.map((c) => [c.field, c.reason]),
      [
        ['mesh: mixerCheckServer', `policy restarted on icp: ${POLICY} → 10.1.9.4`],
        ['mesh: defaultConfig.discoveryAddress', `pilot restarted on icp: ${PILOT} → 10.1.231.182`],
      ],
    );
    assert.equal(
      plan.diff,
      [
        '--- live ConfigMap istio-system/istio on iks (resourceVersion 11)',
        '+++ repaired',
        `@@ mesh: mixerCheckServer · policy restarted on icp: ${POLICY} → 10.1.9.4`,
        `-mixerCheckServer: ${POLICY}:15004`,
        '+mixerCheckServer: 10.1.9.4:15004',
        `@@ mesh: defaultConfig.discoveryAddress · pilot restarted on icp: ${PILOT} → 10.1.231.182`,
        `-  discoveryAddress: ${PILOT}:15007`,
        '+  discoveryAddress: 10.1.231.182:15007',
      ].join('\n'),
    );
    assert.deepEqual(plan.skipped, []);
  });

  it('binds the plan to its text: the same state hashes the same, another live address does not', () => {
    const findings = (ip: string) => findingsOf(cmAddresses(MESH), icp({ pilot: [ip] }));
    const a = plan10([cmObject(MESH)], findings('10.1.231.182'));
    assert.equal(plan10([cmObject(MESH)], findings('10.1.231.182')).hash, a.hash);
    const b = plan10([cmObject(MESH)], findings('10.1.7.7'));
    assert.notEqual(b.hash, a.hash);
    assert.equal(planChanges(a.edits, b.edits), 'pilot is now at 10.1.7.7, not 10.1.231.182');
    assert.equal(
      planChanges(a.edits, []),
      'ConfigMap istio-system/istio mesh: defaultConfig.discoveryAddress needs no change any more',
    );
  });

  it('no drift: no edit, an empty diff', () => {
    const plan = plan10([cmObject(MESH)], findingsOf(cmAddresses(MESH), icp()));
    assert.deepEqual(plan.edits, []);
    assert.equal(plan.diff, '');
  });

  it('keeps a quoted value quoted', () => {
    const mesh = `defaultConfig:\n  discoveryAddress: "${PILOT}:15007" # pilot\n`;
    const plan = plan10([cmObject(mesh)], findingsOf(cmAddresses(mesh), icp({ pilot: ['10.1.0.57'] })));
    const edit = plan.edits[0]!;
    assert.equal(
      edit.kind === 'ConfigMap' && edit.mesh,
      'defaultConfig:\n  discoveryAddress: "10.1.0.57:15007" # pilot\n',
    );
  });

  it('says why it leaves drift alone: nothing live to point at, or the object moved while planning', () => {
    const noPilot = plan10([cmObject(MESH)], findingsOf(cmAddresses(MESH), icp({ pilot: [] })));
    assert.deepEqual(noPilot.edits, []);
    assert.deepEqual(noPilot.skipped, [
      {
        object: 'ConfigMap istio-system/istio',
        field: 'mesh: defaultConfig.discoveryAddress',
        configured: `${PILOT}:15007`,
        why: 'pilot has no running pod on icp to point at',
      },
    ]);
    // The findings were read from the old text; the object as read for the plan has moved on.
    const findings = findingsOf(cmAddresses(MESH), icp({ pilot: ['10.1.0.57'] }));
    const moved = plan10([cmObject(MESH.replace(`${PILOT}:15007`, '10.1.0.99:15007'))], findings);
    assert.deepEqual(moved.edits, []);
    assert.equal(moved.skipped[0]?.why, 'it changed while the plan was made (it now reads 10.1.0.99:15007)');
  });

  it('Endpoints: replaces drifted IPs, drops one that would be listed twice, keeps ports and other entries', () => {
    const ep: V1Endpoints = {
      metadata: { name: 'istio-pilot', namespace: 'istio-system' },
      subsets: [
        {
          addresses: [{ ip: PILOT }, { ip: '10.1.0.2' }, { ip: '10.1.0.3', nodeName: 'n1' }],
          ports: [{ name: 'http-discovery', port: 15007 }],
        },
      ],
    };
    const live: LiveObject = {
      kind: 'Endpoints',
      namespace: 'istio-system',
      name: 'istio-pilot',
      resourceVersion: '13',
      subsets: ep.subsets!,
    };
    const primary = icp({ pilot: ['10.1.0.57', '10.1.0.3'] });
    const plan = plan10([live], findingsOf(endpointsAddresses(ep, 'istio-system', 'pilot'), primary));
    const edit = plan.edits[0]!;
    assert.ok(edit.kind === 'Endpoints');
    assert.deepEqual(edit.subsets, [
      {
        addresses: [{ ip: '10.1.0.57' }, { ip: '10.1.0.3', nodeName: 'n1' }],
        ports: [{ name: 'http-discovery', port: 15007 }],
      },
    ]);
    assert.deepEqual(
      edit.changes.map((c) => [c.field, c.minus, c.plus]),
      [
        ['subsets[0].addresses[0].ip', `  - ip: ${PILOT}`, '  - ip: 10.1.0.57'],
        ['subsets[0].addresses[1].ip', '  - ip: 10.1.0.2', '  (dropped: 10.1.0.57 is already listed)'],
      ],
    );
    assert.match(
      edit.changes[0]!.reason,
      /pilot restarted on icp: 10\.1\.151\.122 → 10\.1\.0\.57 \(also live: 10\.1\.0\.3\)/,
    );
  });
});

describe('the repair plan of a modern remote (pure)', () => {
  const primary = (gateway: string): PrimaryControlPlane => ({
    cluster: 'icp',
    profile: 'modern',
    components: { istiod: { live: [gateway], stable: [] } },
  });
  const slice: LiveObject = {
    kind: 'EndpointSlice',
    namespace: 'istio-system',
    name: 'istiod',
    resourceVersion: '40',
    addressType: 'IPv4',
    endpoints: [{ addresses: ['198.51.100.99'], conditions: { ready: true } }],
  };
  const addresses = sliceAddresses(
    [
      {
        metadata: { name: 'istiod' },
        addressType: 'IPv4',
        endpoints: slice.kind === 'EndpointSlice' ? slice.endpoints : [],
      },
    ],
    'istio-system',
    'istiod',
  );
  const plan = (gateway: string, extra: ConfiguredAddress[] = []) =>
    makeRepairPlan({
      remote: 'iks',
      primary: 'icp',
      profile: 'modern',
      findings: detectDrift(
        { cluster: 'iks', profile: 'modern', addresses: [...addresses, ...extra], unresolved: [] },
        primary(gateway),
      ),
      objects: [slice],
    });

  it('points the istiod EndpointSlice at the east-west gateway, keeping each endpoint’s other fields', () => {
    const p = plan('198.51.100.50');
    const edit = p.edits[0]!;
    assert.ok(edit.kind === 'EndpointSlice');
    assert.deepEqual(edit.endpoints, [{ addresses: ['198.51.100.50'], conditions: { ready: true } }]);
    assert.equal(
      p.diff,
      [
        '--- live EndpointSlice istio-system/istiod on iks (resourceVersion 40)',
        '+++ repaired',
        '@@ endpoints[0].addresses[0] · the east-west gateway on icp is at 198.51.100.50: 198.51.100.99 → 198.51.100.50',
        '-  - 198.51.100.99',
        '+  - 198.51.100.50',
      ].join('\n'),
    );
  });

  it('never writes a hostname into an IPv4 slice, nor rewrites an ExternalName Service', () => {
    const p = plan('gw.example.com', [
      {
        component: 'istiod',
        object: 'Service istio-system/istiod',
        field: 'spec.externalName',
        value: 'old-gw.example.com',
        host: 'old-gw.example.com',
      },
    ]);
    assert.deepEqual(p.edits, []);
    assert.deepEqual(
      p.skipped.map((s) => s.why),
      [
        "gw.example.com is not an IPv4 address, and the EndpointSlice's addressType is IPv4",
        'an ExternalName Service holds a hostname; change it where the remote profile is installed',
      ],
    );
  });
});
