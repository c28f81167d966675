// More clusters from a two-cluster scenario: the primary stays, the remote is copied N-1 times
// with its own CIDRs, nodes, VPN gateway address, tunnel to the primary and remote secret.
// Used by benchmarks (e.g. 10 clusters) and scale tests.

import { loadScenario, type ScenarioSource } from './load.ts';
import type { ClusterSpec, Scenario } from './schema.ts';

export interface GenerateOptions {
  /** Total number of clusters, primary included (2 gives back the base scenario). */
  clusters: number;
  base?: ScenarioSource;
}

function renamed(remote: ClusterSpec, index: number): ClusterSpec {
  const name = `${remote.name}-${index}`;
  return {
    ...structuredClone(remote),
    name,
    podCidr: `10.${100 + index}.0.0/16`,
    serviceCidr: `10.${150 + index}.0.0/16`,
    nodes: remote.nodes.map((_, n) => ({
      name: `10.177.${80 + index}.${20 + n}`,
      ip: `10.177.${80 + index}.${20 + n}`,
    })),
    services: remote.services.map((s) =>
      s.loadBalancerIP ? { ...s, loadBalancerIP: `203.0.113.${10 + index}` } : s,
    ),
  };
}

export function generateScenario(options: GenerateOptions): Scenario {
  const base = loadScenario(options.base ?? 'seed');
  if (options.clusters <= 2) return base;
  const primary = base.clusters.find((c) => c.role === 'primary');
  const remote = base.clusters.find((c) => c.role === 'remote');
  const tunnel = base.network.tunnels[0];
  if (!primary || !remote || !tunnel)
    throw new Error(`scenario ${base.name} needs a primary, a remote and a tunnel`);
  const remotes = Array.from({ length: options.clusters - 1 }, (_, i) => renamed(remote, i + 1));
  const primarySide = tunnel.sides[primary.name]!;
  const remoteSide = tunnel.sides[remote.name]!;
  const template = primary.remoteSecrets.find((s) => s.cluster === remote.name);
  return loadScenario({
    ...base,
    name: `${base.name}-${options.clusters}`,
    clusters: [
      {
        ...primary,
        remoteSecrets: [
          ...primary.remoteSecrets.filter((s) => s.cluster !== remote.name),
          ...(template
            ? remotes.map((r) => ({ ...template, name: r.name, key: r.name, cluster: r.name }))
            : []),
        ],
      },
      ...remotes,
    ],
    network: {
      ...base.network,
      tunnels: remotes.map((r) => {
        const subnets = [r.podCidr, r.serviceCidr];
        const gateway = r.services.find((s) => s.loadBalancerIP)?.loadBalancerIP ?? remoteSide.gateway;
        return {
          ...tunnel,
          between: [primary.name, r.name] as [string, string],
          conn: `k8s-${r.name}`,
          sides: {
            [primary.name]: { ...primarySide, remoteSubnets: subnets },
            [r.name]: { ...remoteSide, localSubnets: subnets, gateway },
          },
        };
      }),
    },
  });
}
