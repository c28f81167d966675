import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConfigError, parseConfig } from '../../src/config/load.ts';

const problems = (yaml: string): string[] => {
  try {
    parseConfig(yaml, '/etc/meshops/meshops.yaml', '/etc/meshops');
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};

describe('clusters[].inCluster', () => {
  it('reaches the cluster meshops runs in with its ServiceAccount, no kubeconfig', () => {
    const config = parseConfig(
      'clusters: [{name: icp, role: primary, inCluster: true}, {name: iks, role: remote, kubeconfig: kube/iks.yaml}]',
      '/etc/meshops/meshops.yaml',
      '/etc/meshops',
    );
    assert.equal(config.clusters[0]!.inCluster, true);
    assert.equal(config.clusters[0]!.kubeconfig, undefined);
    assert.equal(config.clusters[1]!.kubeconfig, '/etc/meshops/kube/iks.yaml');
  });

  it('needs exactly one of kubeconfig and inCluster', () => {
    assert.match(
      problems('clusters: [{name: icp, role: primary}]').join('\n'),
      /clusters\.0\.kubeconfig: cluster "icp": is required \(or inCluster: true for the cluster meshops runs in\)/,
    );
    assert.match(
      problems('clusters: [{name: icp, role: primary, inCluster: true, kubeconfig: a.yaml}]').join('\n'),
      /cluster "icp": set kubeconfig or inCluster: true, not both/,
    );
  });
});
