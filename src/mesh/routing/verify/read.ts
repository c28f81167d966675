import type { IstioProfile } from '../../../config/schema.ts';
import { serviceQueries } from './queries.ts';

/** One result row of an instant query: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** One series of a range query: [epoch ms, value] points. */
export interface RangeSeries {
  labels: Record<string, string>;
  points: [number, number][];
}

/** The primary's Prometheus, as the verification reads it (HTTP API, directly or via the API server). */
export interface MetricsReader {
  /** Where it is read, for messages: "http://…" or "the icp API server's proxy to istio-system/prometheus:9090". */
  readonly where: string;
  query(expr: string, atMs: number): Promise<Sample[]>;
  queryRange(expr: string, startMs: number, endMs: number, stepMs: number): Promise<RangeSeries[]>;
}

export interface VersionStats {
  requests: number;
  errors: number;
  /** Null when the histogram has no data for the range. */
  p99Ms: number | null;
}

export interface ServiceStats {
  byVersion: Record<string, VersionStats>;
  /** p99 of the whole service over the range. */
  p99AllMs: number | null;
}

/**
 * Istio 1.0's Mixer labels pods of a remote cluster `destination_version="unknown"` (its Kubernetes
 * adapter watches one cluster). When exactly one version the routes send to has no series of its own,
 * "unknown" is that version (bookinfo's reviews v3 on iks); otherwise it stays "unknown" and is judged
 * as one more destination, so errors on remote pods are never ignored.
 */
export const UNKNOWN = 'unknown';

export function unknownMeans(present: readonly string[], routed: readonly string[]): string {
  if (!present.includes(UNKNOWN)) return UNKNOWN;
  const missing = routed.filter((v) => v !== UNKNOWN && !present.includes(v));
  return missing.length === 1 ? missing[0]! : UNKNOWN;
}

export function attributeUnknown(stats: ServiceStats, routed: readonly string[]): ServiceStats {
  const unknown = stats.byVersion[UNKNOWN];
  const means = unknownMeans(Object.keys(stats.byVersion), routed);
  if (!unknown || means === UNKNOWN) return stats;
  const { [UNKNOWN]: _, ...rest } = stats.byVersion;
  return { ...stats, byVersion: { ...rest, [means]: unknown } };
}

const finite = (n: number) => (Number.isFinite(n) ? n : null);

/** Requests, 5xx and p99 per destination version of one service over `rangeMs` ending at `atMs`. */
export async function readService(
  reader: MetricsReader,
  profile: IstioProfile,
  fqdn: string,
  atMs: number,
  rangeMs: number,
  routed: readonly string[],
): Promise<ServiceStats> {
  const q = serviceQueries(profile, fqdn, rangeMs);
  const [requests, errors, p99, p99All] = await Promise.all([
    reader.query(q.requests, atMs),
    reader.query(q.errors, atMs),
    reader.query(q.p99, atMs),
    reader.query(q.p99All, atMs),
  ]);
  const byVersion: Record<string, VersionStats> = {};
  const entry = (s: Sample) => {
    const v = s.labels.destination_version ?? UNKNOWN;
    byVersion[v] ??= { requests: 0, errors: 0, p99Ms: null };
    return byVersion[v];
  };
  for (const s of requests) entry(s).requests += finite(s.value) ?? 0;
  for (const s of errors) entry(s).errors += finite(s.value) ?? 0;
  for (const s of p99) entry(s).p99Ms = finite(s.value);
  return attributeUnknown({ byVersion, p99AllMs: finite(p99All[0]?.value ?? Number.NaN) }, routed);
}
