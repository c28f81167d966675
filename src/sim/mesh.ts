// startSimMesh: every cluster of a scenario as a live API server on loopback, with a kubeconfig
// file each, joined by the simulated network, and the fault controls.

import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SimCluster } from './cluster/sim-cluster.ts';
import { createFaults, type SimFaults } from './faults.ts';
import { SimControlPlane } from './istio/control-plane.ts';
import { PilotDebugServer } from './istio/debug-server.ts';
import { Network } from './net/network.ts';
import { buildOrder, populate } from './scenario/build.ts';
import { loadScenario, type ScenarioSource } from './scenario/load.ts';
import type { Scenario } from './scenario/schema.ts';
import { ClusterApiServer } from './server/api-server.ts';
import { ClusterAuth, ISTIO_READER, shippedRbac } from './server/auth.ts';
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
  /** Fixed bearer tokens per cluster name (meshops' token); others get a random one. */
  tokens?: Readonly<Record<string, string>>;
  /**
   * How meshops' token is authorized: `shipped` (default) by the repository's deploy/rbac files,
   * per-cluster RBAC YAML documents instead, or `off` (every token may do anything).
   */
  rbac?: 'shipped' | 'off' | Readonly<Record<string, readonly string[]>>;
  /** How long a new pod stays ContainerCreating (ms, default 300). */
  podStartMs?: number;
  /** Real-time delay before any exec answers (ms, default 50). */
  execLatencyMs?: number;
  /** Real ms per simulated ms inside commands, e.g. ping intervals and RTTs (default 0.01). */
  timeScale?: number;
  /** How long proxies take to reconnect and get a first push after pilot (re)starts, ms (1000). */
  xdsReconnectMs?: number;
}

export interface SimClusterHandle {
  readonly name: string;
  readonly role: 'primary' | 'remote';
  readonly url: string;
  readonly port: number;
  /** meshops' token, authorized by RBAC. */
  readonly token: string;
  readonly caCert: string;
  readonly kubeconfigPath: string;
  /** A kubeconfig for an administrator (system:masters): test set-up and kubectl acting as an admin. */
  readonly adminKubeconfigPath: string;
  /** The cluster's state, for assertions that go beyond the API. */
  readonly state: SimCluster;
}

export interface SimMesh {
  readonly scenario: Scenario;
  readonly clusters: ReadonlyMap<string, SimClusterHandle>;
  readonly network: Network;
  readonly faults: SimFaults;
  /** Pilot's and Citadel's view: proxy sync state and the certificates proxies hold. */
  readonly controlPlane: SimControlPlane;
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
  adminKubeconfigPath(cluster: string): string;
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
    routesReady: (cluster, node, routes) => states.get(cluster)?.daemonPodReady(routes, node) ?? false,
  });

  const controlPlane = new SimControlPlane(states, network, {
    reconnectMs: options.xdsReconnectMs ?? 1000,
    now: timing.now,
  });

  const servers = new Map<string, ClusterApiServer>();
  const started = new Map<string, SimClusterHandle>();
  // What a remote secret holds: the istio-multi account's kubeconfig, pilot's credentials, not meshops'.
  const istioMultiKubeconfigs = new Map<string, string>();
  const rbac = options.rbac ?? 'shipped';
  /** The RBAC documents a cluster is built with; meshops' use is noted only under the shipped files. */
  const rbacOf = (spec: Scenario['clusters'][number]) =>
    rbac === 'off' ? [] : rbac === 'shipped' ? shippedRbac(spec.role) : (rbac[spec.name] ?? []);
  try {
    await Promise.all(
      scenario.clusters.map(async (spec) => {
        const state = states.get(spec.name)!;
        const tls = await makeClusterTls(spec.name);
        const token = options.tokens?.[spec.name] ?? randomBytes(24).toString('hex');
        const tokens = {
          meshops: token,
          admin: randomBytes(24).toString('hex'),
          istioMulti: randomBytes(24).toString('hex'),
        };
        const usageDir = process.env.MESHOPS_RBAC_USAGE_DIR;
        const auth = new ClusterAuth(state, tokens, {
          enforce: rbac !== 'off',
          ...(rbac === 'shipped' ? { shipped: rbacOf(spec), ...(usageDir ? { usageDir } : {}) } : {}),
        });
        const server = new ClusterApiServer(state, network, tls, auth, execTiming, controlPlane);
        servers.set(spec.name, server);
        await server.listen(options.ports?.[spec.name] ?? 0);
        const write = async (user: string, secret: string, file: string) => {
          const text = kubeconfigYaml({
            cluster: spec.name,
            server: server.url,
            caCert: tls.caCert,
            token: secret,
            user,
          });
          await writeFile(join(dir, file), text, { mode: 0o600 });
          return text;
        };
        const kubeconfigPath = join(dir, `${spec.name}.kubeconfig`);
        const adminKubeconfigPath = join(dir, `${spec.name}-admin.kubeconfig`);
        await write('meshops', token, `${spec.name}.kubeconfig`);
        await write('admin', tokens.admin, `${spec.name}-admin.kubeconfig`);
        istioMultiKubeconfigs.set(
          spec.name,
          kubeconfigYaml({
            cluster: spec.name,
            server: server.url,
            caCert: tls.caCert,
            token: tokens.istioMulti,
            user: 'istio-multi',
          }),
        );
        started.set(spec.name, {
          name: spec.name,
          role: spec.role,
          url: server.url,
          port: server.port,
          token,
          caCert: tls.caCert,
          kubeconfigPath,
          adminKubeconfigPath,
          state,
        });
      }),
    );
  } catch (e) {
    await Promise.all([...servers.values()].map((s) => s.close()));
    throw e;
  }
  const handles = new Map(scenario.clusters.map((spec) => [spec.name, started.get(spec.name)!]));
  const handleOf = (name: string) => {
    const handle = handles.get(name);
    if (!handle)
      throw new Error(`unknown cluster ${name}; the scenario has ${[...handles.keys()].join(', ')}`);
    return handle;
  };

  const populateAll = () => {
    const ctx = {
      now: timing.now(),
      cluster: (name: string) => {
        const c = states.get(name);
        if (!c) throw new Error(`unknown cluster ${name}`);
        return c;
      },
      kubeconfig: (name: string) => istioMultiKubeconfigs.get(name) ?? '',
      rbac: (spec: Scenario['clusters'][number]) =>
        rbac === 'off' ? [] : [...rbacOf(spec), ...(spec.role === 'remote' ? [ISTIO_READER] : [])],
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
  // Pilot's debug port behind its Service, for the API server's service proxy.
  const pilotDebug = new PilotDebugServer(states, controlPlane);
  const pilotDebugUrl = await pilotDebug.listen();
  for (const state of states.values()) {
    for (const r of pilotDebug.routes(state))
      state.serviceBackends.set(`${r.namespace}/${r.service}:${r.port}`, `${pilotDebugUrl}${r.path}`);
  }

  const faults = createFaults({
    clusters: states,
    servers,
    network,
    settled,
    reset: async () => {
      for (const c of states.values()) c.clear();
      network.reset();
      controlPlane.reset();
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
    controlPlane,
    metrics: { url: exporter.url, target: exporter.target },
    connectService: (cluster, namespace, service, port, url) => {
      const state = states.get(cluster);
      if (!state) throw new Error(`unknown cluster ${cluster}`);
      state.serviceBackends.set(`${namespace}/${service}:${port}`, url.replace(/\/$/, ''));
    },
    setTraffic: (service, version, fault) => traffic.setFault(service, version, fault),
    kubeconfigPath: (name) => handleOf(name).kubeconfigPath,
    adminKubeconfigPath: (name) => handleOf(name).adminKubeconfigPath,
    settled,
    close: async () => {
      faults.stop();
      await exporter.close();
      await pilotDebug.close();
      for (const c of states.values()) c.controller.stop();
      await Promise.all([...servers.values()].map((s) => s.close()));
    },
  };
}
