import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, type V1Deployment } from '@kubernetes/client-node';
import type { StoredAuditEntry } from '../../../src/access/audit.ts';
import type { StoredMessage } from '../../../src/console/slack-api.ts';
import { type SimMesh, startSimMesh } from '../../../src/sim/index.ts';
import type { ScenarioSource } from '../../../src/sim/scenario/load.ts';
import { type Harness, startHarness } from '../../helpers/harness.ts';
import { kubeConfigs, seedClustersYaml } from '../../helpers/kube.ts';
import { auditOf } from '../../helpers/redis.ts';
import { waitFor } from '../../helpers/wait.ts';

/**
 * The world the repair tests run in: a simulated mesh, meshops through the harness (real Slack HTTP, real
 * Redis, real worker), and client-node views of the simulated clusters to check what meshops wrote.
 */

export const ALICE = 'U0ALICE'; // operator and approver
export const BOB = 'U0BOB'; // approver
export const CAROL = 'U0CAROL'; // neither

export interface Kube {
  core: CoreV1Api;
  apps: AppsV1Api;
  discovery: DiscoveryV1Api;
}

export interface World {
  sim: SimMesh;
  h: Harness;
  kube(cluster: string): Kube;
  /** The `mesh` key of iks' `istio` ConfigMap and its resourceVersion. */
  meshConfig(): Promise<{ mesh: string; resourceVersion: string }>;
  pilotEndpoints(): Promise<string[]>;
  audit(): Promise<StoredAuditEntry[]>;
  /** The approval messages in `channel`, oldest first, whatever their state. */
  approvals(channel: string): { ts: string; id: string; message: StoredMessage }[];
  /** Waits for the `n`-th (1-based) approval message in `channel`. */
  approval(channel: string, n?: number): Promise<{ ts: string; id: string; message: StoredMessage }>;
  message(channel: string, ts: string): StoredMessage;
  approve(channel: string, request: { ts: string; id: string }, user?: string): Promise<void>;
  reject(channel: string, request: { ts: string; id: string }, user?: string): Promise<void>;
  /** Waits until the thread under `ts` holds a message matching `pattern`. */
  reply(channel: string, ts: string, pattern: RegExp, timeoutMs?: number): Promise<StoredMessage>;
  close(): Promise<void>;
}

export interface WorldOptions {
  scenario?: ScenarioSource;
  /** Extra top-level config (YAML). */
  extra?: string;
  /** jobs.timeout, e.g. "6s": a rolling restart may use three quarters of it. */
  jobTimeout?: string;
}

export const text = (m: StoredMessage) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;

export async function startWorld(label: string, options: WorldOptions = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), `meshops-${label}-`));
  const sim = await startSimMesh({ dir, ...(options.scenario ? { scenario: options.scenario } : {}) });
  const configYaml = `
${seedClustersYaml(sim)}access:
  operators: [${ALICE}]
  approvers: [${ALICE}, ${BOB}]
  # A suite's commands and clicks by one person fall within a minute; rate limits have their own test.
  rateLimit: { commands: 100, per: 1m }
jobs:
  timeout: ${options.jobTimeout ?? '30s'}
${options.extra ?? ''}`;
  const h = await startHarness({ configYaml, configDir: dir, label });
  const { redis, audit } = auditOf(h.prefix);
  const configs = kubeConfigs(sim);
  const clients = new Map<string, Kube>();
  const kube = (cluster: string) => {
    const kc = configs(cluster);
    const k = clients.get(cluster) ?? {
      core: kc.makeApiClient(CoreV1Api),
      apps: kc.makeApiClient(AppsV1Api),
      discovery: kc.makeApiClient(DiscoveryV1Api),
    };
    clients.set(cluster, k);
    return k;
  };
  // Approval messages name their plan and request in every state (the buttons go once it is decided).
  const approvals = (channel: string) =>
    h.parents(channel).flatMap((message) => {
      const id = /plan `[0-9a-f]+` · request `(ap-[0-9a-f]+)`/.exec(
        JSON.stringify(message.blocks ?? []),
      )?.[1];
      return id ? [{ ts: message.ts, id, message }] : [];
    });
  const world: World = {
    sim,
    h,
    kube,
    async meshConfig() {
      const cm = await kube('iks').core.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' });
      return { mesh: cm.data?.mesh ?? '', resourceVersion: cm.metadata?.resourceVersion ?? '' };
    },
    async pilotEndpoints() {
      const ep = await kube('iks').core.readNamespacedEndpoints({
        name: 'istio-pilot',
        namespace: 'istio-system',
      });
      return (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
    },
    audit: () => audit.latest(200),
    approvals,
    approval: (channel, n = 1) =>
      waitFor(`approval message #${n} in ${channel}`, () => approvals(channel)[n - 1], 20_000),
    message(channel, ts) {
      // Updates replace the stored message; the newest version is the one people see.
      const m = h.slack.messages.find((x) => x.channel === channel && x.ts === ts);
      if (!m) throw new Error(`no message ${ts} in ${channel}`);
      return m;
    },
    async reject(channel, request, user = BOB) {
      await h.click({ user, channel, messageTs: request.ts, actionId: 'mesh.reject', value: request.id });
    },
    async approve(channel, request, user = BOB) {
      await h.click({ user, channel, messageTs: request.ts, actionId: 'mesh.approve', value: request.id });
    },
    reply: (channel, ts, pattern, timeoutMs = 20_000) =>
      waitFor(
        `a reply matching ${pattern} under ${ts} in ${channel}`,
        () => h.thread(channel, ts).find((m) => pattern.test(text(m))),
        timeoutMs,
      ),
    async close() {
      await h.close();
      redis.disconnect();
      await sim.close();
    },
  };
  return world;
}

/** An injected Deployment like bookinfo's, created on a cluster through the API. */
export function appDeployment(name: string, app: string, replicas = 1): V1Deployment {
  const labels = { app, version: name.split('-').at(-1) ?? 'v1' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: app, image: `docker.io/istio/examples-bookinfo-${name}:1.8.0` }] },
      },
    },
  };
}
