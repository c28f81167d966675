import { existsSync } from 'node:fs';
import { ConfigError } from '../config/load.ts';
import type { MeshConfig } from '../config/schema.ts';
import { type Cluster, createCluster } from './cluster.ts';

export interface Clusters {
  readonly all: readonly Cluster[];
  readonly primary: Cluster;
  readonly remotes: readonly Cluster[];
  get(name: string): Cluster | undefined;
  names(): string[];
}

/** Builds one client per configured cluster; a kubeconfig that cannot be read is a start-up error. */
export function createClusters(config: MeshConfig): Clusters {
  const problems: string[] = [];
  const all: Cluster[] = [];
  config.clusters.forEach((c, i) => {
    if (!existsSync(c.kubeconfig)) {
      problems.push(`clusters.${i}.kubeconfig: ${c.kubeconfig} does not exist (cluster "${c.name}")`);
      return;
    }
    try {
      all.push(createCluster(c, config.checks.clusterTimeout));
    } catch (err) {
      problems.push(
        `clusters.${i}.kubeconfig: cluster "${c.name}": ${(err as Error).message.split('\n')[0]}`,
      );
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const byName = new Map(all.map((c) => [c.name, c]));
  return {
    all,
    primary: all.find((c) => c.role === 'primary')!,
    remotes: all.filter((c) => c.role === 'remote'),
    get: (name) => byName.get(name),
    names: () => all.map((c) => c.name),
  };
}
