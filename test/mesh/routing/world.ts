import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { AuditEntry, StoredAuditEntry } from '../../../src/access/audit.ts';
import type { StoredMessage } from '../../../src/console/slack-api.ts';
import { DEFAULT_PRESETS_DIR, loadPresets } from '../../../src/mesh/routing/presets.ts';
import type { VirtualServiceSpec } from '../../../src/mesh/routing/types.ts';
import type { StartOptions } from '../../../src/runtime.ts';
import { type SimMesh, startSimMesh } from '../../../src/sim/index.ts';
import { type Harness, startHarness } from '../../helpers/harness.ts';
import { kubeConfigs, seedClustersYaml } from '../../helpers/kube.ts';
import { auditOf } from '../../helpers/redis.ts';
import { waitFor } from '../../helpers/wait.ts';

/**
 * The world routing tests run in: the seed sim (icp primary with reviews v1/v2, iks remote with
 * reviews v3), meshops through the harness, and a client-node view of the sim to check what was written.
 */

export const ALICE = 'U0ALICE'; // operator and approver
export const BOB = 'U0BOB'; // approver
export const CAROL = 'U0CAROL'; // neither
export const DAVE = 'U0DAVE'; // approver through the user group S0APPROVE
export const GROUP = 'S0APPROVE';

const GROUP_ISTIO = 'networking.istio.io';
export const PRESETS = loadPresets(DEFAULT_PRESETS_DIR, 'default');
export const presetSpec = (name: string, vs = 'reviews'): VirtualServiceSpec =>
  PRESETS.find((p) => p.name === name)!.virtualServices.find((v) => v.ref.name === vs)!.spec;

export interface World {
  sim: SimMesh;
  h: Harness;
  dir: string;
  kube(cluster: string): CustomObjectsApi;
  /** Core objects on a cluster, as an administrator's kubectl reaches them. */
  core(cluster: string): CoreV1Api;
  /** The live VirtualService on a cluster, as client-node reads it. */
  vs(
    cluster: string,
    name: string,
  ): Promise<{ spec: VirtualServiceSpec; resourceVersion: string } | undefined>;
  /** Replaces a VirtualService's spec behind meshops' back, as someone with kubectl would. */
  editVs(cluster: string, name: string, spec: VirtualServiceSpec): Promise<void>;
  /** Deletes a VirtualService behind meshops' back, as someone with kubectl would. */
  deleteVs(cluster: string, name: string): Promise<void>;
  /** Every request meshops or the test sent to a cluster, as `METHOD path`. */
  requestsTo(cluster: string): string[];
  audit(): Promise<StoredAuditEntry[]>;
  /** The approval message the request in `channel` posted (the top-level message with buttons). */
  approval(channel: string): Promise<{ ts: string; id: string; message: StoredMessage }>;
  message(channel: string, ts: string): StoredMessage;
  ephemerals(channel: string, user: string): string[];
  approve(channel: string, user: string): Promise<void>;
  reject(channel: string, user: string): Promise<void>;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** e.g. "1s" for expiry tests. */
  approvalTtl?: string;
  preflight?: 'block' | 'warn';
  /** A presets folder instead of the shipped ones. */
  presets?: string;
  /** `app`: no worker in this process (a test starts its own, e.g. one it can kill). */
  role?: 'app';
  /** The modern scenario (istiod, in-proxy telemetry) with `istio.profile: modern`, instead of the seed. */
  modern?: boolean;
  /** `routing.verify` keys, e.g. `{ window: '6s', interval: '1s' }`. */
  verify?: Record<string, string | number>;
  /** Starts a Prometheus for the simulation and returns its URL, set as the primary's `clusters[].prometheus`. */
  primaryPrometheus?: (sim: SimMesh) => Promise<string>;
  /** Timings of meshops itself, e.g. a shorter approval sweep. */
  start?: Partial<StartOptions>;
}

export function configYaml(sim: SimMesh, options: WorldOptions = {}, prometheusUrl?: string): string {
  const clusters = prometheusUrl
    ? seedClustersYaml(sim).replace(
        /(role: primary,[^}]*) }/,
        `$1, prometheus: ${JSON.stringify(prometheusUrl)} }`,
      )
    : seedClustersYaml(sim);
  return `
${clusters}${options.modern ? 'istio:\n  profile: modern\n' : ''}access:
  operators: [${ALICE}, U0ERIN]
  approvers: [${ALICE}, ${BOB}, ${GROUP}]
  # A suite's commands and clicks by one person fall within a minute; rate limits have their own test.
  rateLimit: { commands: 100, per: 1m }
${options.approvalTtl ? `  approvalTtl: ${options.approvalTtl}\n` : ''}routing:
  preflight: ${options.preflight ?? 'block'}
${options.presets ? `  presets: ${options.presets}\n` : ''}${
  options.verify
    ? `  verify:\n${Object.entries(options.verify)
        .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`)
        .join('')}`
    : ''
}jobs:
  timeout: 20s
`;
}

export async function startWorld(label: string, options: WorldOptions = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), `meshops-${label}-`));
  const sim = await startSimMesh({ dir, ...(options.modern ? { scenario: 'modern' } : {}) });
  const prometheusUrl = await options.primaryPrometheus?.(sim);
  const h = await startHarness({
    configYaml: configYaml(sim, options, prometheusUrl),
    configDir: dir,
    label,
    ...(options.role ? { role: options.role } : {}),
    ...(options.start ? { start: options.start } : {}),
  });
  h.slack.userGroups.set(GROUP, [DAVE]);
  const { redis, audit } = auditOf(h.prefix);

  const requests: { origin: string; line: string }[] = [];
  const onRequest = (message: unknown) => {
    const { request } = message as { request: { origin: string; method: string; path: string } };
    requests.push({ origin: String(request.origin), line: `${request.method} ${request.path}` });
  };
  subscribe('undici:request:create', onRequest);

  const configs = kubeConfigs(sim);
  const clients = new Map<string, CustomObjectsApi>();
  const kube = (cluster: string) => {
    const api = clients.get(cluster) ?? configs(cluster).makeApiClient(CustomObjectsApi);
    clients.set(cluster, api);
    return api;
  };
  const ref = (name: string) => ({
    group: GROUP_ISTIO,
    version: 'v1alpha3',
    namespace: 'default',
    plural: 'virtualservices',
    name,
  });

  const world: World = {
    sim,
    h,
    dir,
    kube,
    core: (cluster) => configs(cluster).makeApiClient(CoreV1Api),
    async vs(cluster, name) {
      try {
        const o = (await kube(cluster).getNamespacedCustomObject(ref(name))) as {
          spec: VirtualServiceSpec;
          metadata: { resourceVersion: string };
        };
        return { spec: o.spec, resourceVersion: o.metadata.resourceVersion };
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    async editVs(cluster, name, spec) {
      const o = (await kube(cluster).getNamespacedCustomObject(ref(name))) as Record<string, unknown>;
      await kube(cluster).replaceNamespacedCustomObject({ ...ref(name), body: { ...o, spec } });
    },
    async deleteVs(cluster, name) {
      await kube(cluster).deleteNamespacedCustomObject(ref(name));
    },
    requestsTo(cluster) {
      const origin = new URL(sim.clusters.get(cluster)!.url).origin;
      return requests.filter((r) => r.origin === origin).map((r) => r.line);
    },
    audit: () => audit.latest(200),
    async approval(channel) {
      const message = await waitFor(`an approval message in ${channel}`, () =>
        h.parents(channel).find((m) => JSON.stringify(m.blocks).includes('"action_id":"mesh.approve"')),
      );
      const id = /"action_id":"mesh\.approve","value":"(ap-[0-9a-f]+)"/.exec(
        JSON.stringify(message.blocks),
      )?.[1];
      if (!id) throw new Error('the approval message carries no request id');
      return { ts: message.ts, id, message };
    },
    message(channel, ts) {
      const m = h.slack.messages.find((x) => x.channel === channel && x.ts === ts);
      if (!m) throw new Error(`no message ${ts} in ${channel}`);
      return m;
    },
    ephemerals: (channel, user) =>
      h.slack.messages.filter((m) => m.channel === channel && m.ephemeralFor === user).map((m) => m.text),
    async approve(channel, user) {
      const { ts, id } = await world.approval(channel);
      await h.click({ user, channel, messageTs: ts, actionId: 'mesh.approve', value: id });
    },
    async reject(channel, user) {
      const { ts, id } = await world.approval(channel);
      await h.click({ user, channel, messageTs: ts, actionId: 'mesh.reject', value: id });
    },
    async close() {
      unsubscribe('undici:request:create', onRequest);
      await h.close();
      redis.disconnect();
      await sim.close();
    },
  };
  return world;
}

/** Waits until the audit stream holds an entry matching `want` (newest first) and returns it. */
export function auditEntry(world: World, want: Partial<AuditEntry>): Promise<StoredAuditEntry> {
  return waitFor(`an audit entry ${JSON.stringify(want)}`, async () =>
    (await world.audit()).find((e) =>
      Object.entries(want).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v),
    ),
  );
}

/** Text of a message's blocks, for matching what a reader sees. */
export const blocksText = (m: StoredMessage) => JSON.stringify(m.blocks);
