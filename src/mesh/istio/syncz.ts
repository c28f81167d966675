import { z } from 'zod';

/**
 * Pilot's `/debug/syncz`: one entry per proxy with a live ADS stream to that pilot, each xDS type as the
 * nonce last sent and the nonce last acknowledged (struct `SyncStatus`, `pilot/pkg/proxy/envoy/v2/debug.go`
 * in Istio 1.0, `pilot/pkg/xds/debug.go` today; every field omitempty). Istio 1.0 names the node
 * `proxy_version`, modern istiod adds `cluster_id` and `istio_version`.
 */

export type XdsStatus = 'SYNCED' | 'STALE' | 'NOT SENT';
export const XDS_TYPES = ['cds', 'lds', 'eds', 'rds'] as const;
export type XdsType = (typeof XDS_TYPES)[number];

const nonce = z.string().optional();
const entrySchema = z.object({
  proxy: z.string().min(1),
  proxy_version: z.string().optional(),
  istio_version: z.string().optional(),
  cluster_id: z.string().optional(),
  cluster_sent: nonce,
  cluster_acked: nonce,
  listener_sent: nonce,
  listener_acked: nonce,
  route_sent: nonce,
  route_acked: nonce,
  endpoint_sent: nonce,
  endpoint_acked: nonce,
  endpoint_percent: z.number().optional(),
});
// Pilot answers `null` when no proxy is connected (a nil slice marshalled by encoding/json).
const syncSchema = z.array(entrySchema).nullable();

export interface ProxySync {
  /** The node id: `<pod>.<namespace>` for sidecars and gateways (pilot-agent's default). */
  id: string;
  pod: string;
  namespace: string;
  /** The cluster pilot says the proxy is in (modern istiod only). */
  clusterId?: string;
  version?: string;
  status: Record<XdsType, XdsStatus>;
  /** Share of endpoints sent, shown with EDS as istioctl does. */
  endpointPercent: number;
  /** The pilot pod whose connection this is. */
  pilot: string;
}

/** istioctl's rule (`istioctl/pkg/writer/pilot/status.go` xdsStatus): nothing sent, same nonce, or behind. */
export function xdsStatus(sent: string | undefined, acked: string | undefined): XdsStatus {
  if (!sent) return 'NOT SENT';
  return sent === acked ? 'SYNCED' : 'STALE';
}

function splitId(id: string): { pod: string; namespace: string } {
  // Pod names cannot hold dots (DNS-1123 labels), so the first dot ends the pod name.
  const dot = id.indexOf('.');
  return dot === -1 ? { pod: id, namespace: '' } : { pod: id.slice(0, dot), namespace: id.slice(dot + 1) };
}

export type SynczParse = { ok: true; proxies: ProxySync[] } | { ok: false; reason: string };

export function parseSyncz(text: string, pilot: string): SynczParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: `pilot ${pilot} answered /debug/syncz with something that is not JSON` };
  }
  const parsed = syncSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `pilot ${pilot} answered /debug/syncz in a shape meshops does not know` };
  }
  const proxies = (parsed.data ?? []).map((e): ProxySync => {
    const version = e.istio_version || e.proxy_version;
    return {
      id: e.proxy,
      ...splitId(e.proxy),
      ...(e.cluster_id ? { clusterId: e.cluster_id } : {}),
      ...(version ? { version } : {}),
      status: {
        cds: xdsStatus(e.cluster_sent, e.cluster_acked),
        lds: xdsStatus(e.listener_sent, e.listener_acked),
        eds: xdsStatus(e.endpoint_sent, e.endpoint_acked),
        rds: xdsStatus(e.route_sent, e.route_acked),
      },
      endpointPercent: e.endpoint_percent ?? 0,
      pilot,
    };
  });
  return { ok: true, proxies };
}

/** A proxy is in sync when every type pilot sent was acknowledged; NOT SENT alone is not out of sync. */
export function proxyState(p: ProxySync): 'synced' | 'stale' | 'not-sent' {
  const values = XDS_TYPES.map((t) => p.status[t]);
  if (values.includes('STALE')) return 'stale';
  // A gateway without routes never gets RDS; a proxy that got nothing at all is waiting for its first push.
  return values.every((v) => v === 'NOT SENT') ? 'not-sent' : 'synced';
}

/**
 * How the bot reads `/debug/syncz`: an exec into pilot's discovery container, like `istioctl proxy-status`
 * in Istio 1.0. `pilot-discovery request` sends the request to pilot's own monitoring port on loopback
 * (127.0.0.1:9093 in 1.0, :15014 in 1.1 and later), which since Istio 1.11 is the one place the debug
 * endpoints answer without istiod's authentication (docs/proxies-and-certs.md).
 */
export const SYNCZ_ARGV = ['/usr/local/bin/pilot-discovery', 'request', 'GET', '/debug/syncz'] as const;
export const DISCOVERY_CONTAINER = 'discovery';
