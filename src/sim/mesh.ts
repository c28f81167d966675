// startSimMesh: every cluster of a scenario as a live API server on loopback, with a kubeconfig
// file each, joined by the simulated network, and the fault controls.

import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RbacObject } from './api/rbac.ts';
import { SimCluster } from './cluster/sim-cluster.ts';
import { createFaults, type SimFaults } from './faults.ts';
import { Network } from './net/network.ts';
import { buildOrder, populate } from './scenario/build.ts';
import { loadScenario, type ScenarioSource } from './scenario/load.ts';
import type { Scenario } from './scenario/schema.ts';
import { ClusterApiServer } from './server/api-server.ts';
import { kubeconfigYaml } from './server/kubeconfig.ts';
import { makeClusterTls } from './server/tls.ts';
import { MetricsExporter } from './traffic/exporter.ts';
import { BOOKINFO_FLOWS, type TrafficFault, TrafficMetrics } from './traffic/metrics.ts';

export interface SimMeshOptions {
  /** `seed` (default), `modern`, a scenario file path, or scenario data. */
  scenario?: ScenarioSource;
  /** Directory for the kubeconfig files (created if missing). */
  dir: string;
  /** Fixed ports per cluster name; others get a free port. */
  ports?: Readonly<Record<string, number>>;
  /** Fixed bearer tokens per cluster name; others get a random one. */
  tokens?: Readonly<Record<string, string>>;
  /**
   * RBAC objects per cluster name (e.g. deploy/rbac/*.yaml) that authorize the bot's token; a cluster
   * without an entry treats the token as a cluster admin's.
   */
  rbac?: Readonly<Record<string, RbacObject[]>>;
  /** How long a new pod stays ContainerCreating (ms, default 300). */
  podStartMs?: number;
  /** Real-time delay before any exec answers (ms, default 50). */
  execLatencyMs?: number;
  /** Real ms per simulated ms inside commands, e.g. ping intervals and RTTs (default 0.01). */
  timeScale?: number;
}

export interface SimClusterHandle {
  readonly name: string;
  readonly role: 'primary' | 'remote';
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly caCert: string;
  readonly kubeconfigPath: string;
  /** The cluster's state, for assertions that go beyond the API. */
  readonly state: SimCluster;
}

export interface SimMesh {
  readonly scenario: Scenario;
  readonly clusters: ReadonlyMap<string, SimClusterHandle>;
  readonly network: Network;
  readonly faults: SimFaults;
  /**
   * The mesh's request telemetry in Prometheus' text format (`http://127.0.0.1:<port>/metrics`) and as
   * a scrape target (`127.0.0.1:<port>`): Mixer's adapter on an Istio 1.0 primary, in-proxy otherwise.
   */
  readonly metrics: { url: string; target: string };
  /** Makes `services/<name>:<port>/proxy/…` on `cluster`'s API server reach `url` (e.g. a real Prometheus). */
  connectService(cluster: string, namespace: string, service: string, port: number, url: string): void;
  /** Faults of one version of a Service: `setTraffic('reviews', 'v3', { errorRate: 0.3 })`; `{}` heals it. */
  setTraffic(service: string, version: string, fault: TrafficFault): void;
  kubeconfigPath(cluster: string): string;
  /** Resolves when no pod is starting and every controller has caught up. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function startSimMesh(options: SimMeshOptions): Promise<SimMesh> {
  const scenario = loadScenario(options.scenario ?? 'seed');
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const timing = { podStartMs: options.podStartMs ?? 300, now: () => Date.now() };
  const execTiming = { execLatencyMs: options.execLatencyMs ?? 50, timeScale: options.timeScale ?? 0.01 };

  const states = new Map(scenario.clusters.map((spec) => [spec.name, new SimCluster(spec, timing)]));
  const network = new Network(scenario.network, {
    locate: (ip) => {
      for (const c of states.values()) {
        const where = c.addresses.locate(ip);
        if (where) return where;
      }
      return undefined;
    },
  });

  const servers = new Map<string, ClusterApiServer>();
  const started = new Map<string, SimClusterHandle>();
  const kubeconfigs = new Map<string, string>();
  try {
    await Promise.all(
      scenario.clusters.map(async (spec) => {
        const state = states.get(spec.name)!;
        const tls = await makeClusterTls(spec.name);
        const token = options.tokens?.[spec.name] ?? randomBytes(24).toString('hex');
        const server = new ClusterApiServer(
          state,
          network,
          tls,
          token,
          execTiming,
          options.rbac?.[spec.name],
        );
        servers.set(spec.name, server);
        await server.listen(options.ports?.[spec.name] ?? 0);
        const kubeconfigPath = join(dir, `${spec.name}.kubeconfig`);
        const text = kubeconfigYaml({ cluster: spec.name, server: server.url, caCert: tls.caCert, token });
        kubeconfigs.set(spec.name, text);
        await writeFile(kubeconfigPath, text, { mode: 0o600 });
        started.set(spec.name, {
          name: spec.name,
          role: spec.role,
          url: server.url,
          port: server.port,
          token,
          caCert: tls.caCert,
          kubeconfigPath,
          state,
        });
      }),
    );
  } catch (e) {
    await Promise.all([...servers.values()].map((s) => s.close()));
    throw e;
  }
  const handles = new Map(scenario.clusters.map((spec) => [spec.name, started.get(spec.name)!]));

  const populateAll = () => {
    const ctx = {
      now: timing.now(),
      cluster: (name: string) => {
        const c = states.get(name);
        if (!c) throw new Error(`unknown cluster ${name}`);
        return c;
      },
      kubeconfig: (name: string) => kubeconfigs.get(name) ?? '',
    };
    for (const spec of buildOrder(scenario)) populate(states.get(spec.name)!, ctx);
  };
  const settled = async () => {
    await Promise.all([...states.values()].map((c) => c.controller.settled()));
  };
  populateAll();
  await settled();

  const traffic = new TrafficMetrics([...states.values()], BOOKINFO_FLOWS, timing.now);
  const exporter = new MetricsExporter(traffic);
  await exporter.listen();

  const faults = createFaults({
    clusters: states,
    servers,
    network,
    settled,
    reset: async () => {
      for (const c of states.values()) c.clear();
      network.reset();
      traffic.clearFaults();
      await Promise.all([...servers.values()].map((s) => s.restore()));
      populateAll();
      await settled();
    },
  });

  return {
    scenario,
    clusters: handles,
    network,
    faults,
    metrics: { url: exporter.url, target: exporter.target },
    connectService: (cluster, namespace, service, port, url) => {
      const state = states.get(cluster);
      if (!state) throw new Error(`unknown cluster ${cluster}`);
      state.serviceBackends.set(`${namespace}/${service}:${port}`, url.replace(/\/$/, ''));
    },
    setTraffic: (service, version, fault) => traffic.setFault(service, version, fault),
    kubeconfigPath: (name) => {
      const handle = handles.get(name);
      if (!handle)
        throw new Error(`unknown cluster ${name}; the scenario has ${[...handles.keys()].join(', ')}`);
      return handle.kubeconfigPath;
    },
    settled,
    close: async () => {
      faults.stop();
      await exporter.close();
      for (const c of states.values()) c.controller.stop();
      await Promise.all([...servers.values()].map((s) => s.close()));
    },
  };
}
