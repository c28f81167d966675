import type { IstioProfile } from '../../../config/schema.ts';

/**
 * The PromQL meshops runs against the primary's Prometheus, per Istio's metric names:
 * Istio 1.0 (Mixer's Prometheus adapter) records durations in seconds (`istio_request_duration_seconds`),
 * modern in-proxy telemetry in milliseconds (`istio_request_duration_milliseconds`). Both count requests
 * in `istio_requests_total`. Only what the server-side proxy reports (`reporter="destination"`) is read:
 * each request is reported by both ends, and the destination's report is the one with the real answer.
 */

export interface ServiceQueries {
  /** Requests per destination version over the range (a count, for the minimum-traffic rule). */
  requests: string;
  /** 5xx answers per destination version over the range. */
  errors: string;
  /** p99 latency per destination version, in milliseconds. */
  p99: string;
  /** p99 of the whole service, in milliseconds (the baseline of a version that had no traffic before). */
  p99All: string;
  /** Request rate per version, per second (charts). */
  rate: string;
}

const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** `5m`, `90s`: a PromQL range of whole seconds, at least one. */
export const promRange = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;

export function serviceQueries(profile: IstioProfile, fqdn: string, rangeMs: number): ServiceQueries {
  const sel = `reporter="destination",destination_service=${quote(fqdn)}`;
  const r = promRange(rangeMs);
  const hist =
    profile === 'modern'
      ? { metric: 'istio_request_duration_milliseconds_bucket', toMs: '' }
      : { metric: 'istio_request_duration_seconds_bucket', toMs: ' * 1000' };
  const quantile = (by: string) =>
    `histogram_quantile(0.99, sum by (${by}) (rate(${hist.metric}{${sel}}[${r}])))${hist.toMs}`;
  return {
    requests: `sum by (destination_version) (increase(istio_requests_total{${sel}}[${r}]))`,
    errors: `sum by (destination_version) (increase(istio_requests_total{${sel},response_code=~"5.."}[${r}]))`,
    p99: quantile('le, destination_version'),
    p99All: quantile('le'),
    rate: `sum by (destination_version) (rate(istio_requests_total{${sel}}[${r}]))`,
  };
}
