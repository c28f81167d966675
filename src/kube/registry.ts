import { existsSync, statSync } from 'node:fs';
import { ConfigError } from '../config/load.ts';
import type { ClusterConfig, MeshConfig } from '../config/schema.ts';
import { type Cluster, createCluster } from './cluster.ts';

export interface Clusters {
  readonly all: readonly Cluster[];
  readonly primary: Cluster;
  readonly remotes: readonly Cluster[];
  get(name: string): Cluster | undefined;
  names(): string[];
}

/** How often a kubeconfig file is looked at for a change (one stat). */
const RELOAD_CHECK_MS = 1000;

/** Identifies one version of a file: a Secret volume swaps a symlink, so the inode changes too. */
function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}

/**
 * A cluster whose kubeconfig file is re-read when it changes, so a rotated token or certificate is used
 * from the next API call on, without a restart. A file that does not load keeps the previous clients.
 */
function reloading(config: ClusterConfig, timeoutMs: number, onReloadError: (err: Error) => void): Cluster {
  const path = config.kubeconfig!;
  let current = createCluster(config, timeoutMs);
  let seen = stamp(path);
  let checkedAt = Date.now();
  const fresh = (): Cluster => {
    if (Date.now() - checkedAt < RELOAD_CHECK_MS) return current;
    checkedAt = Date.now();
    const now = stamp(path);
    if (now === seen) return current;
    seen = now;
    try {
      current = createCluster(config, timeoutMs);
    } catch (err) {
      onReloadError(err as Error);
    }
    return current;
  };
  return {
    name: config.name,
    role: config.role,
    config,
    get server() {
      return fresh().server;
    },
    get core() {
      return fresh().core;
    },
    get apps() {
      return fresh().apps;
    },
    get custom() {
      return fresh().custom;
    },
    get discovery() {
      return fresh().discovery;
    },
    get authorization() {
      return fresh().authorization;
    },
    options: (ms) => fresh().options(ms),
    mergePatch: (ms) => fresh().mergePatch(ms),
    version: (ms) => fresh().version(ms),
    exec: (request) => fresh().exec(request),
    get: (path, ms) => fresh().get(path, ms),
  };
}

/** Builds one client per configured cluster; a kubeconfig that cannot be read is a start-up error. */
export function createClusters(
  config: MeshConfig,
  onReloadError: (cluster: string, err: Error) => void = () => {},
): Clusters {
  const problems: string[] = [];
  const all: Cluster[] = [];
  config.clusters.forEach((c, i) => {
    if (c.kubeconfig && !existsSync(c.kubeconfig)) {
      problems.push(`clusters.${i}.kubeconfig: ${c.kubeconfig} does not exist (cluster "${c.name}")`);
      return;
    }
    try {
      all.push(
        c.kubeconfig
          ? reloading(c, config.checks.clusterTimeout, (err) => onReloadError(c.name, err))
          : createCluster(c, config.checks.clusterTimeout),
      );
    } catch (err) {
      problems.push(
        `clusters.${i}.${c.kubeconfig ? 'kubeconfig' : 'inCluster'}: cluster "${c.name}": ${(err as Error).message.split('\n')[0]}`,
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
