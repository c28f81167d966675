import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../../src/config/load.ts';
import { BUILTIN_PROFILES, istioSetup } from '../../../src/mesh/istio/profiles.ts';

const parse = (extra: string, clusterExtra = '') =>
  parseConfig(
    `clusters:
  - { name: icp, role: primary, kubeconfig: /k/icp${clusterExtra} }
  - { name: iks, role: remote, kubeconfig: /k/iks }
${extra}`,
    'meshops.yaml',
    '/',
  );

const problems = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  assert.fail('expected a config error');
};

describe('which components each cluster must run', () => {
  it('by default istio-1.0 in istio-system, by role', () => {
    const config = parse('');
    const [icp, iks] = config.clusters;
    assert.deepEqual(istioSetup(config, icp!), {
      profile: 'istio-1.0',
      namespace: 'istio-system',
      components: BUILTIN_PROFILES['istio-1.0'].primary,
    });
    assert.deepEqual(
      istioSetup(config, iks!).components.map((c) => `${c.name} ${c.selector}`),
      ['citadel istio=citadel', 'sidecar-injector istio=sidecar-injector'],
    );
    assert.deepEqual(
      BUILTIN_PROFILES['istio-1.0'].primary.map(
        (c) => `${c.name} ${c.selector}${c.optional ? ' (optional)' : ''}`,
      ),
      [
        'pilot istio=pilot',
        'policy istio-mixer-type=policy',
        'telemetry istio-mixer-type=telemetry',
        'statsd-prom-bridge istio=statsd-prom-bridge',
        'tracing app=jaeger',
        'citadel istio=citadel',
        'sidecar-injector istio=sidecar-injector',
        'galley istio=galley',
        'ingressgateway istio=ingressgateway',
        'egressgateway istio=egressgateway (optional)',
      ],
    );
  });

  it('mesh-wide profile, namespace and per-role lists; a cluster’s own settings win', () => {
    const config = parse(
      `istio:
  profile: modern
  namespace: mesh-system
  components:
    remote: [{ name: ingress, selector: 'istio=ingressgateway' }]`,
      `, istio: { namespace: istio-system, components: [{ name: prom, selector: 'app in (prometheus)', optional: true }] }`,
    );
    const [icp, iks] = config.clusters;
    assert.deepEqual(istioSetup(config, icp!), {
      profile: 'modern',
      namespace: 'istio-system',
      components: [{ name: 'prom', selector: 'app in (prometheus)', optional: true }],
    });
    assert.deepEqual(istioSetup(config, iks!), {
      profile: 'modern',
      namespace: 'mesh-system',
      components: [{ name: 'ingress', selector: 'istio=ingressgateway', optional: false }],
    });
  });

  it('refuses typos, unknown profiles and selectors that do not parse, naming the place', () => {
    assert.match(
      problems(() =>
        parse(`istio:\n  components:\n    primary: [{ name: x, selector: 'a=b', optinal: true }]`),
      ),
      /istio\.components\.primary\.0\.optinal: unknown key \(did you mean "optional"\?\)/,
    );
    assert.match(
      problems(() => parse(`istio:\n  components:\n    primaries: []`)),
      /istio\.components\.primaries: unknown key; allowed: primary, remote/,
    );
    assert.match(
      problems(() => parse('istio: { profile: istio-1.5 }')),
      /istio\.profile: must be one of istio-1\.0, modern/,
    );
    assert.match(
      problems(() => parse(`istio:\n  components:\n    remote: [{ name: x, selector: 'app in (a' }]`)),
      /istio\.components\.remote\.0\.selector: is not a label selector/,
    );
  });
});
