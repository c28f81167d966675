import { request } from 'undici';
import { z } from 'zod';
import type { Cluster } from '../kube/cluster.ts';
import type { MetricsReader, RangeSeries, Sample } from '../mesh/routing/verify/read.ts';

/**
 * Prometheus' HTTP API (`/api/v1/query`, `/api/v1/query_range`), reached either at a configured URL or
 * through the primary's API server: `/api/v1/namespaces/<istio ns>/services/prometheus:9090/proxy/…`,
 * which needs no other credential than the kubeconfig (RBAC: `services/proxy` on that one Service).
 */

const value = z.tuple([z.number(), z.string()]);
const envelope = z.object({
  status: z.enum(['success', 'error']),
  error: z.string().optional(),
  data: z
    .object({
      resultType: z.string(),
      result: z.array(
        z.object({
          metric: z.record(z.string(), z.string()),
          value: value.optional(),
          values: z.array(value).optional(),
        }),
      ),
    })
    .optional(),
});

export class PrometheusError extends Error {}

/** Prometheus sends NaN and ±Inf as strings; Number() reads them all. */
const num = (text: string) => Number(text);

type Fetch = (pathAndQuery: string) => Promise<{ status: number; body: string }>;

function parse(where: string, status: number, body: string) {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PrometheusError(
      `${where} answered HTTP ${status} without Prometheus' JSON (${body.slice(0, 120).replace(/\s+/g, ' ')})`,
    );
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) {
    const message = (json as { message?: unknown })?.message;
    throw new PrometheusError(
      `${where} answered HTTP ${status}${typeof message === 'string' ? `: ${message}` : ' with an unexpected body'}`,
    );
  }
  if (parsed.data.status === 'error' || !parsed.data.data)
    throw new PrometheusError(`${where}: ${parsed.data.error ?? `HTTP ${status}`}`);
  return parsed.data.data.result;
}

function readerOver(where: string, get: Fetch): MetricsReader {
  const sec = (ms: number) => (ms / 1000).toFixed(3);
  return {
    where,
    async query(expr, atMs): Promise<Sample[]> {
      const q = new URLSearchParams({ query: expr, time: sec(atMs) });
      const res = await get(`/api/v1/query?${q}`);
      return parse(where, res.status, res.body).map((r) => ({
        labels: r.metric,
        value: r.value ? num(r.value[1]) : Number.NaN,
      }));
    },
    async queryRange(expr, startMs, endMs, stepMs): Promise<RangeSeries[]> {
      const q = new URLSearchParams({ query: expr, start: sec(startMs), end: sec(endMs), step: sec(stepMs) });
      const res = await get(`/api/v1/query_range?${q}`);
      return parse(where, res.status, res.body).map((r) => ({
        labels: r.metric,
        points: (r.values ?? []).map(([t, v]) => [t * 1000, num(v)] as [number, number]),
      }));
    },
  };
}

const PROMETHEUS_PROXY = 'prometheus:9090';

/** `clusters[].prometheus` when set, else the API server's service proxy in the Istio namespace. */
export function metricsReader(primary: Cluster, istioNamespace: string, timeoutMs: number): MetricsReader {
  const url = primary.config.prometheus?.replace(/\/$/, '');
  if (url) {
    return readerOver(url, async (path) => {
      try {
        const res = await request(`${url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
        return { status: res.statusCode, body: await res.body.text() };
      } catch (err) {
        throw new PrometheusError(`${url} could not be reached: ${(err as Error).message}`);
      }
    });
  }
  const base = `/api/v1/namespaces/${encodeURIComponent(istioNamespace)}/services/${PROMETHEUS_PROXY}/proxy`;
  const where = `${primary.name}'s API server proxy to ${istioNamespace}/${PROMETHEUS_PROXY}`;
  return readerOver(where, async (path) => {
    try {
      return await primary.get(`${base}${path}`, timeoutMs);
    } catch (err) {
      throw new PrometheusError(`${where} could not be reached: ${(err as Error).message}`);
    }
  });
}
