// Istio's view of the simulated mesh, computed from the clusters' objects the way pilot and Citadel
// would see them: which proxies hold an ADS stream to which pilot (and whether pushes are being
// acknowledged), and which certificates each proxy holds. Nothing here reads meshops' code: the rules
// come from pilot (debug.go SyncStatus, an ADS stream per connected Envoy) and Citadel (one root per
// trust domain, a workload certificate per service account with a 90-day TTL).

import { generate } from 'selfsigned';
import { hexId } from '../cluster/ids.ts';
import type { SimCluster } from '../cluster/sim-cluster.ts';
import type { Json, KubeObject } from '../cluster/store.ts';
import type { Network } from '../net/network.ts';

const DAY_MS = 86_400_000;

/** Citadel 1.0 defaults (security/cmd/istio_ca/main.go): a one-year self-signed root, 90-day workload certs. */
export const DEFAULT_ROOT_DAYS = 365;
export const DEFAULT_WORKLOAD_TTL_DAYS = 90;

export interface CertSettings {
  /** Clusters with the same trust group share one root (istio.io 1.0 multicluster: the same `cacerts`). */
  trustGroup: string;
  /** The root's notAfter, epoch ms. */
  rootNotAfter: number;
  workloadTtlDays: number;
  /** Mesh-wide mutual TLS: only then does a 1.0 sidecar's Envoy hold TLS contexts that `/certs` lists. */
  mutualTls: boolean;
}

export interface CertChange {
  /** A root (re)made to expire this many days from now; negative for one already expired. */
  rootExpiresInDays?: number;
  /** Another name gives the cluster its own root, so its proxies no longer chain to the others'. */
  trustGroup?: string;
  /** Workload certificates issued at the scenario's start with this lifetime. */
  workloadTtlDays?: number;
  mutualTls?: boolean;
}

export interface ControlPlaneOptions {
  /** How long a proxy takes to reconnect and get its first push after its pilot (re)starts, real ms. */
  reconnectMs: number;
  now: () => number;
}

/** One row of `/debug/syncz` (the JSON tags of pilot's SyncStatus). */
export type SyncRow = Record<string, string | number>;

interface Proxy {
  cluster: SimCluster;
  pod: Json;
  container: Json;
  discoveryAddress?: string;
  startedAt: number;
}

const running = (pod: Json, name: string): Json | undefined =>
  ((pod.status?.containerStatuses ?? []) as Json[]).find((s) => s.name === name && s.state?.running);

/** `docker.io/istio/proxyv2:1.0.2` → `1.0.2`. */
export const imageTag = (image: string | undefined): string => /:([^:/@]+)$/.exec(image ?? '')?.[1] ?? '';

/** Istio 1.0 images print Envoy's text `/certs` and the 1.0 SyncStatus fields. */
export const isIstio10 = (image: string | undefined): boolean => imageTag(image).startsWith('1.0');

export class SimControlPlane {
  readonly #clusters: ReadonlyMap<string, SimCluster>;
  readonly #network: Network;
  readonly #options: ControlPlaneOptions;
  #certs = new Map<string, CertSettings>();
  #issued = new Map<string, Promise<{ cert: string; key: string }>>();
  #created = 0;
  /** Streams opened at or after this time wait for releaseReconnects (their first push is held back). */
  #heldFrom: number | undefined;
  /** Streams opened at or before this time have had their first push, however recent. */
  #releasedAt = Number.NEGATIVE_INFINITY;
  /** Reads of a private key file through exec: meshops must never make one. */
  keyReads = 0;

  constructor(clusters: ReadonlyMap<string, SimCluster>, network: Network, options: ControlPlaneOptions) {
    this.#clusters = clusters;
    this.#network = network;
    this.#options = options;
    this.reset();
  }

  reset(): void {
    this.#created = this.#options.now();
    this.#certs = new Map(
      [...this.#clusters.keys()].map((name) => [
        name,
        {
          trustGroup: 'mesh',
          // A root made some months before the scenario starts.
          rootNotAfter: this.#created + (DEFAULT_ROOT_DAYS - 100) * DAY_MS,
          workloadTtlDays: DEFAULT_WORKLOAD_TTL_DAYS,
          mutualTls: false,
        },
      ]),
    );
    this.#issued.clear();
    this.keyReads = 0;
    this.#heldFrom = undefined;
    this.#releasedAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * From now on a proxy whose stream (re)opens — its pilot or itself restarted — stays NOT SENT until
   * releaseReconnects: Envoy's reconnect backoff made a controllable event, so a test sees both states for sure.
   */
  holdReconnects(): void {
    // Container start times have whole seconds (as the API shows them): a stream opened within this second counts.
    this.#heldFrom = Math.floor(this.#options.now() / 1000) * 1000;
  }

  /** Every held stream gets its first push now (SYNCED where the route back is up); later ones take reconnectMs. */
  releaseReconnects(): void {
    this.#heldFrom = undefined;
    this.#releasedAt = this.#options.now();
  }

  /** Whether a stream opened at `since` is still waiting for its first acknowledged push. */
  #connecting(since: number, now: number): boolean {
    if (this.#heldFrom !== undefined && since >= this.#heldFrom) return true;
    if (since <= this.#releasedAt) return false;
    return now - since < this.#options.reconnectMs;
  }

  certSettings(cluster: string): CertSettings {
    const s = this.#certs.get(cluster);
    if (!s) throw new Error(`unknown cluster ${cluster}`);
    return s;
  }

  /** Changes a cluster's certificates; certificates issued before are replaced (the proxies reload them). */
  setCerts(cluster: string, change: CertChange): void {
    const s = this.certSettings(cluster);
    const now = this.#options.now();
    this.#certs.set(cluster, {
      trustGroup: change.trustGroup ?? s.trustGroup,
      rootNotAfter:
        change.rootExpiresInDays === undefined ? s.rootNotAfter : now + change.rootExpiresInDays * DAY_MS,
      workloadTtlDays: change.workloadTtlDays ?? s.workloadTtlDays,
      mutualTls: change.mutualTls ?? s.mutualTls,
    });
    this.#issued.clear();
  }

  mutualTls(cluster: string): boolean {
    return this.certSettings(cluster).mutualTls;
  }

  #proxies(): Proxy[] {
    const out: Proxy[] = [];
    for (const cluster of this.#clusters.values()) {
      for (const pod of cluster.list('pods') as Json[]) {
        const container = ((pod.spec?.containers ?? []) as Json[]).find((c) => c.name === 'istio-proxy');
        const args = (container?.args ?? []) as string[];
        // Sidecars and gateways run `pilot-agent proxy sidecar|router`; pilot's own proxy only fronts pilot.
        if (!container || args[0] !== 'proxy' || !['sidecar', 'router'].includes(args[1] ?? '')) continue;
        const status = running(pod, 'istio-proxy');
        if (!status || !pod.status?.podIP) continue;
        const at = args.indexOf('--discoveryAddress');
        out.push({
          cluster,
          pod,
          container,
          ...(at >= 0 && args[at + 1] ? { discoveryAddress: args[at + 1] } : {}),
          startedAt: Date.parse(status.state.running.startedAt),
        });
      }
    }
    return out;
  }

  /** Running pilots of the mesh, in name order (a proxy dialling a Service name lands on the first). */
  #pilots(): { cluster: SimCluster; pod: Json }[] {
    const out: { cluster: SimCluster; pod: Json }[] = [];
    for (const cluster of this.#clusters.values()) {
      for (const pod of cluster.list('pods') as Json[]) {
        if (running(pod, 'discovery') && pod.status?.podIP) out.push({ cluster, pod });
      }
    }
    return out.sort((a, b) => String(a.pod.metadata.name).localeCompare(b.pod.metadata.name));
  }

  /**
   * What `GET /debug/syncz` answers on one pilot pod: the proxies whose discovery address leads to it.
   * An address that is this pilot's pod IP but not routable from the proxy (tunnel down) keeps the stream
   * half-open: pushes go out and are never acknowledged (STALE). A proxy whose address leads elsewhere
   * (an old pilot IP after a restart) is not connected at all. Right after pilot or proxy start every
   * type is NOT SENT until the stream is up and the first push acknowledged.
   */
  syncz(pilotCluster: string, pilotPod: KubeObject): SyncRow[] | null {
    const pilot = pilotPod as Json;
    const pilotStatus = running(pilot, 'discovery');
    if (!pilotStatus) return null;
    const pilotStart = Date.parse(pilotStatus.state.running.startedAt);
    const pilotIp: string = pilot.status.podIP;
    const firstPilot = this.#pilots()[0];
    const legacy = isIstio10(
      ((pilot.spec?.containers ?? []) as Json[]).find((c) => c.name === 'discovery')?.image,
    );
    const now = this.#options.now();
    const rows: SyncRow[] = [];
    for (const p of this.#proxies()) {
      const host = p.discoveryAddress?.replace(/:\d+$/, '');
      const byIp = host !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(host);
      const mine = byIp ? host === pilotIp : firstPilot?.pod.metadata.name === pilot.metadata.name;
      if (!mine) continue;
      const routed = byIp
        ? this.#network.route(p.cluster.name, p.pod.spec?.nodeName, p.pod.status.podIP, pilotIp).reachable
        : true;
      const sent = `${hexId(`${pilotCluster}/${pilot.metadata.name}/${pilotStart}`, 8)}-${Math.floor(pilotStart / 1000)}`;
      const acked = routed ? sent : `${hexId(`${sent}/before`, 8)}-${Math.floor(pilotStart / 1000)}`;
      const connecting = this.#connecting(Math.max(pilotStart, p.startedAt), now);
      const version = imageTag(p.container.image);
      const row: SyncRow = {
        ...(legacy ? {} : { cluster_id: p.cluster.name }),
        proxy: `${p.pod.metadata.name}.${p.pod.metadata.namespace}`,
        ...(legacy ? { proxy_version: version } : { istio_version: version }),
      };
      if (!connecting) {
        const gateway = (p.container.args as string[])[1] === 'router';
        Object.assign(row, {
          cluster_sent: sent,
          cluster_acked: acked,
          listener_sent: sent,
          listener_acked: acked,
          ...(gateway && legacy ? {} : { route_sent: sent, route_acked: acked }),
          endpoint_sent: sent,
          endpoint_acked: acked,
          endpoint_percent: 100,
        });
      }
      rows.push(row);
    }
    return rows.sort((a, b) => String(a.proxy).localeCompare(String(b.proxy)));
  }

  #issue(
    key: string,
    subject: string,
    notBefore: number,
    notAfter: number,
    ca?: { cert: string; key: string },
  ) {
    let cert = this.#issued.get(key);
    if (!cert) {
      cert = generate([{ name: 'organizationName', value: subject }], {
        keyType: 'ec',
        curve: 'P-256',
        algorithm: 'sha256',
        notBeforeDate: new Date(notBefore),
        notAfterDate: new Date(notAfter),
        ...(ca ? { ca: { key: ca.key, cert: ca.cert } } : {}),
        extensions: ca
          ? [{ name: 'basicConstraints', cA: false }]
          : [{ name: 'basicConstraints', cA: true, critical: true }],
      }).then((g) => ({ cert: g.cert, key: g.private }));
      this.#issued.set(key, cert);
    }
    return cert;
  }

  /** The root and workload certificates a proxy in `cluster` has mounted (PEM; the key stays here). */
  async certificates(cluster: string, pod: KubeObject): Promise<{ root: string; chain: string }> {
    const s = this.certSettings(cluster);
    const root = await this.#issue(
      `root/${s.trustGroup}/${s.rootNotAfter}`,
      'cluster.local',
      s.rootNotAfter - DEFAULT_ROOT_DAYS * DAY_MS,
      s.rootNotAfter,
    );
    const sa = (pod as Json).spec?.serviceAccountName ?? 'default';
    // Citadel issues one secret per service account; it was last rotated when the scenario started.
    const issuedAt = this.#created;
    const workload = await this.#issue(
      `workload/${cluster}/${pod.metadata.namespace}/${sa}/${s.trustGroup}/${s.rootNotAfter}/${s.workloadTtlDays}`,
      'cluster.local',
      issuedAt,
      issuedAt + s.workloadTtlDays * DAY_MS,
      root,
    );
    return { root: root.cert, chain: workload.cert };
  }
}
