import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, RbacAuthorizationV1Api, type V1Role, type V1RoleBinding } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../../src/config/load.ts';
import type { MeshConfig } from '../../../src/config/schema.ts';
import { historyStore } from '../../../src/history/store.ts';
import type { Cluster } from '../../../src/kube/cluster.ts';
import { type Clusters, createClusters } from '../../../src/kube/registry.ts';
import { runPingCheck, runVpnCheck, type VpnDeps } from '../../../src/mesh/vpn/check.ts';
import type { VpnReport } from '../../../src/mesh/vpn/report.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { CommandOf } from '../../../src/queue/jobs.ts';
import { type SimMesh, type SimMeshOptions, shippedRbac, startSimMesh } from '../../../src/sim/index.ts';
import { remoteSecretOf } from '../../helpers/kube.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../../helpers/redis.ts';

/** The seed's address plan (src/sim/scenarios/seed.yaml), as an operator writes it into meshops' config. */
export const SEED_CIDRS: Record<string, { pod: string[]; service: string[] }> = {
  icp: { pod: ['10.1.0.0/16'], service: ['10.0.0.0/24'] },
  iks: { pod: ['172.30.0.0/16'], service: ['172.21.0.0/16'] },
};

export interface ConfigOptions {
  /** Top-level YAML appended as is, e.g. "vpn:\n  count: 2\n". */
  extra?: string;
  /** Address plan per cluster; the seed's by default. */
  cidrs?: Record<string, { pod: string[]; service: string[] }>;
  /** Further keys inside one cluster's flow mapping, e.g. "vpn: { probe: { selector: app=tools } }". */
  cluster?: Record<string, string>;
}

export function vpnConfigYaml(mesh: SimMesh, options: ConfigOptions = {}): string {
  const cidrs = options.cidrs ?? SEED_CIDRS;
  const clusters = [...mesh.clusters.values()]
    .map((c) => {
      const own = cidrs[c.name];
      const ranges = own
        ? `, podCidrs: [${own.pod.join(', ')}], serviceCidrs: [${own.service.join(', ')}]`
        : '';
      const more = options.cluster?.[c.name] ? `, ${options.cluster[c.name]}` : '';
      const secret = remoteSecretOf(mesh, c.name);
      return `  - { name: ${c.name}, role: ${c.role}, kubeconfig: ./${c.name}.kubeconfig${ranges}${secret ? `, remoteSecret: ${secret}` : ''}${more} }`;
    })
    .join('\n');
  return `clusters:\n${clusters}\n${options.extra ?? ''}`;
}

/** A simulated mesh with meshops' clusters and a Redis prefix of its own, for checks run straight against it. */
export interface VpnChecks {
  config: MeshConfig;
  clusters: Clusters;
  deps: VpnDeps;
  vpn(): Promise<VpnReport>;
  ping(from: string, target: string): ReturnType<typeof runPingCheck>;
}

export interface VpnSim extends VpnChecks {
  mesh: SimMesh;
  dir: string;
  /** The same mesh seen through another meshops config (its own Redis prefix too). */
  withConfig(options: ConfigOptions): VpnChecks;
  close(): Promise<void>;
}

export async function startVpnSim(
  options: { config?: ConfigOptions; sim?: Partial<SimMeshOptions> } = {},
): Promise<VpnSim> {
  const dir = mkdtempSync(join(tmpdir(), 'meshops-vpn-'));
  const mesh = await startSimMesh({ dir, podStartMs: 20, execLatencyMs: 5, ...options.sim });
  const redis = new Redis(REDIS_URL);
  const prefixes: string[] = [];
  const checks = (configOptions: ConfigOptions = {}): VpnChecks => {
    const config = parseConfig(vpnConfigYaml(mesh, configOptions), join(dir, 'meshops.yaml'), dir);
    const clusters = createClusters(config);
    const prefix = uniquePrefix('vpn');
    prefixes.push(prefix);
    const deps: VpnDeps = {
      config,
      clusters,
      history: historyStore({ redis, prefix, config }),
      log: createLogger('silent'),
    };
    return {
      config,
      clusters,
      deps,
      vpn: () => runVpnCheck(deps),
      ping: (from, target) => runPingCheck(deps, pingCommand(from, target)),
    };
  };
  return {
    ...checks(options.config),
    mesh,
    dir,
    withConfig: checks,
    async close() {
      await mesh.close();
      for (const prefix of prefixes) await dropPrefix(prefix);
      redis.disconnect();
    },
  };
}

/**
 * The commands each cluster's exec was asked to run, per cluster and across clusters in the order they
 * started, while still running them for real.
 */
export function recordCommands(clusters: readonly Cluster[]): {
  commands: Map<string, string[]>;
  started: { cluster: string; command: string }[];
  restore(): void;
} {
  const commands = new Map<string, string[]>();
  const started: { cluster: string; command: string }[] = [];
  const originals = clusters.map((c) => [c, c.exec] as const);
  for (const [c, exec] of originals) {
    (c as { exec: Cluster['exec'] }).exec = (request) => {
      const command = request.command.join(' ');
      commands.set(c.name, [...(commands.get(c.name) ?? []), command]);
      started.push({ cluster: c.name, command });
      return exec(request);
    };
  }
  return {
    commands,
    started,
    restore: () => {
      for (const [c, exec] of originals) (c as { exec: Cluster['exec'] }).exec = exec;
    },
  };
}

export function pingCommand(from: string, target: string): CommandOf<'ping'> {
  return /^[\d.]+$/.test(target)
    ? { kind: 'ping', from, target: { type: 'ip', ip: target } }
    : { kind: 'ping', from, target: { type: 'cluster', name: target } };
}

export const findingIds = (r: VpnReport) => r.findings.map((f) => f.id);

/** The finding with `id`, or a failure that lists the ones there are. */
export function findFinding(r: VpnReport, id: string): VpnReport['findings'][number] {
  const f = r.findings.find((x) => x.id === id);
  assert.ok(f, `finding ${id} among: ${findingIds(r).join(', ') || '(none)'}`);
  return f;
}

/**
 * What deploy/rbac/common.yaml tells an SRE to do when the probe pod lives in another namespace: apply its
 * meshops-probe Role and RoleBinding (exec) there too. Done as an administrator, as kubectl apply would.
 */
export async function grantProbeExec(mesh: SimMesh, cluster: string, namespace: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(mesh.adminKubeconfigPath(cluster));
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const docs = parseAllDocuments(shippedRbac('primary')[0]!).map((d) => d.toJS() as V1Role & V1RoleBinding);
  const named = (kind: string) => docs.find((d) => d.kind === kind && d.metadata?.name === 'meshops-probe')!;
  const metadata = { name: 'meshops-probe', namespace };
  await rbac.createNamespacedRole({ namespace, body: { ...named('Role'), metadata } });
  await rbac.createNamespacedRoleBinding({ namespace, body: { ...named('RoleBinding'), metadata } });
}
