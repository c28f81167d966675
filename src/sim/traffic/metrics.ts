// Istio's request metrics for the traffic the simulated mesh carries, in Prometheus' text format, as
// the mesh's telemetry would expose them for Prometheus to scrape:
// - Istio 1.0 (a primary running Mixer, `istio=mixer`): Mixer's Prometheus adapter (istio@1.0.2
//   install/kubernetes/helm/istio/charts/mixer/templates/config.yaml): `istio_requests_total`,
//   `istio_request_duration_seconds` with buckets 0.005…10 s. Mixer 1.0 watches one cluster only, so a
//   pod of a remote cluster has no pod metadata: its app, version and workload read "unknown".
// - modern Istio (in-proxy telemetry): `istio_requests_total`, `istio_request_duration_milliseconds`
//   with Envoy's default buckets, and the cluster labels.
// Counters are integrated over real time from the routes live at each scrape.

import { type SimCluster, workloadOf } from '../cluster/sim-cluster.ts';
import type { Json, KubeObject } from '../cluster/store.ts';
import { type Endpoint, endpointsFor } from './routing.ts';

export type Telemetry = 'mixer' | 'in-proxy';

export interface TrafficFault {
  /** Share of requests answered 503 (0–1). */
  errorRate?: number;
  /** Added to every response's duration. */
  addedLatencyMs?: number;
}

export interface Flow {
  namespace: string;
  /** The calling workload's `app` label. */
  from: string;
  /** The Service called. */
  to: string;
  rps: number;
}

/** bookinfo's product page calls reviews and details once per page view. */
export const BOOKINFO_FLOWS: readonly Flow[] = [
  { namespace: 'default', from: 'productpage', to: 'reviews', rps: 20 },
  { namespace: 'default', from: 'productpage', to: 'details', rps: 20 },
];

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const MS_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];
/** A healthy service's response times: (ms, share). */
const LATENCY: readonly [number, number][] = [
  [8, 0.6],
  [30, 0.37],
  [70, 0.03],
];

interface Series {
  labels: Record<string, string>;
  count: number;
  /** Cumulative per bucket bound (same order as the bounds), then the sum of durations. */
  buckets: number[];
  sum: number;
}

const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

export class TrafficMetrics {
  readonly #primary: SimCluster;
  readonly #clusters: readonly SimCluster[];
  readonly #flows: readonly Flow[];
  readonly #now: () => number;
  readonly #requests = new Map<string, Series>();
  readonly #faults = new Map<string, TrafficFault>();
  /** Where each flow went since the last advance: a change is integrated with the routes before it. */
  #routes: Map<Flow, { source: { cluster: string; pod: KubeObject }; endpoints: Endpoint[] } | undefined> =
    new Map();
  #last: number;

  constructor(clusters: readonly SimCluster[], flows: readonly Flow[], now: () => number) {
    this.#clusters = clusters;
    this.#primary = clusters.find((c) => c.spec.role === 'primary') ?? clusters[0]!;
    this.#flows = flows;
    this.#now = now;
    this.#last = now();
    this.#route();
    // Traffic up to a routing write went the old way; from it on, the new way. (Pod changes are taken at
    // the next scrape: integrating on each would cost a scan of every pod per pod event.)
    this.#primary.store.onChange((e) => {
      if (/^(virtualservices|destinationrules)\b/.test(e.key)) this.advance();
    });
  }

  #route(): void {
    this.#routes = new Map(
      this.#flows.map((flow) => {
        const source = this.#sourceOf(flow);
        if (!source) return [flow, undefined];
        const labels = source.pod.metadata.labels ?? {};
        return [
          flow,
          { source, endpoints: endpointsFor(this.#primary, this.#clusters, flow.namespace, flow.to, labels) },
        ];
      }),
    );
  }

  get telemetry(): Telemetry {
    return this.#primary.list('pods', undefined).some((p) => p.metadata.labels?.istio === 'mixer')
      ? 'mixer'
      : 'in-proxy';
  }

  /** Faults of one version of a Service (`reviews`, `v3`); an empty fault heals it. */
  setFault(service: string, version: string, fault: TrafficFault): void {
    this.advance();
    if (fault.errorRate === undefined && fault.addedLatencyMs === undefined)
      this.#faults.delete(`${service}/${version}`);
    else this.#faults.set(`${service}/${version}`, fault);
  }

  clearFaults(): void {
    this.advance();
    this.#faults.clear();
  }

  /** Adds the requests sent since the last call along the routes as they were, then takes the routes live now. */
  advance(): void {
    const now = this.#now();
    const seconds = Math.max(0, (now - this.#last) / 1000);
    this.#last = now;
    const telemetry = this.telemetry;
    for (const flow of this.#flows) {
      const route = seconds > 0 ? this.#routes.get(flow) : undefined;
      if (!route) continue;
      const { source, endpoints } = route;
      for (const ep of endpoints) {
        const version = ep.pod.metadata.labels?.version ?? 'unknown';
        const fault = this.#faults.get(`${flow.to}/${version}`) ?? {};
        const n = flow.rps * seconds * ep.share;
        const errors = n * (fault.errorRate ?? 0);
        for (const reporter of ['source', 'destination']) {
          const base = this.#labels(telemetry, reporter, flow, source, ep);
          this.#add(telemetry, { ...base, response_code: '200' }, n - errors, fault.addedLatencyMs ?? 0);
          if (errors > 0)
            this.#add(telemetry, { ...base, response_code: '503' }, errors, fault.addedLatencyMs ?? 0);
        }
      }
    }
    this.#route();
  }

  /** The exposition text Prometheus scrapes. */
  text(): string {
    this.advance();
    const telemetry = this.telemetry;
    const ms = telemetry === 'in-proxy';
    const bounds = ms ? MS_BUCKETS : SECONDS_BUCKETS;
    const hist = ms ? 'istio_request_duration_milliseconds' : 'istio_request_duration_seconds';
    const series = [...this.#requests.values()];
    const lines = ['# HELP istio_requests_total requests_total', '# TYPE istio_requests_total counter'];
    for (const s of series) lines.push(`istio_requests_total{${labelText(s.labels)}} ${Math.floor(s.count)}`);
    lines.push(`# HELP ${hist} request_duration`, `# TYPE ${hist} histogram`);
    for (const s of series) {
      const l = labelText(s.labels);
      for (const [i, b] of bounds.entries())
        lines.push(`${hist}_bucket{${l},le="${b}"} ${Math.floor(s.buckets[i]!)}`);
      lines.push(`${hist}_bucket{${l},le="+Inf"} ${Math.floor(s.count)}`);
      lines.push(`${hist}_sum{${l}} ${s.sum}`, `${hist}_count{${l}} ${Math.floor(s.count)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  #sourceOf(flow: Flow): { cluster: string; pod: KubeObject } | undefined {
    for (const c of this.#clusters) {
      const pod = c
        .list('pods', flow.namespace)
        .find((p) => p.metadata.labels?.app === flow.from && (p as Json).status?.phase === 'Running');
      if (pod) return { cluster: c.name, pod };
    }
    return undefined;
  }

  #labels(
    telemetry: Telemetry,
    reporter: string,
    flow: Flow,
    source: { cluster: string; pod: KubeObject },
    dest: { cluster: string; pod: KubeObject },
  ): Record<string, string> {
    const known = (p: { cluster: string }) => telemetry === 'in-proxy' || p.cluster === this.#primary.name;
    const side = (p: { cluster: string; pod: KubeObject }) => {
      const labels = p.pod.metadata.labels ?? {};
      const sa = (p.pod as Json).spec?.serviceAccountName ?? 'default';
      return known(p)
        ? {
            app: labels.app ?? 'unknown',
            principal: `cluster.local/ns/${flow.namespace}/sa/${sa}`,
            workload: workloadOf(p.pod) ?? p.pod.metadata.name,
            workload_namespace: flow.namespace,
            version: labels.version ?? 'unknown',
          }
        : {
            app: 'unknown',
            principal: `cluster.local/ns/${flow.namespace}/sa/${sa}`,
            workload: 'unknown',
            workload_namespace: 'unknown',
            version: 'unknown',
          };
    };
    const s = side(source);
    const d = side(dest);
    const labels: Record<string, string> = {
      reporter,
      source_app: s.app,
      source_principal: s.principal,
      source_workload: s.workload,
      source_workload_namespace: s.workload_namespace,
      source_version: s.version,
      destination_app: d.app,
      destination_principal: d.principal,
      destination_workload: d.workload,
      destination_workload_namespace: d.workload_namespace,
      destination_version: d.version,
      destination_service: `${flow.to}.${flow.namespace}.svc.cluster.local`,
      destination_service_name: flow.to,
      destination_service_namespace: flow.namespace,
      request_protocol: 'http',
      connection_security_policy: reporter === 'source' ? 'unknown' : 'none',
    };
    if (telemetry === 'in-proxy') {
      labels.source_cluster = source.cluster;
      labels.destination_cluster = dest.cluster;
      labels.source_canonical_service = s.app;
      labels.source_canonical_revision = s.version;
      labels.destination_canonical_service = d.app;
      labels.destination_canonical_revision = d.version;
      labels.response_flags = '-';
    }
    return labels;
  }

  #add(telemetry: Telemetry, labels: Record<string, string>, n: number, addedMs: number): void {
    if (n <= 0) return;
    const key = labelText(labels);
    const bounds = telemetry === 'in-proxy' ? MS_BUCKETS : SECONDS_BUCKETS;
    const scale = telemetry === 'in-proxy' ? 1 : 1 / 1000;
    let s = this.#requests.get(key);
    if (!s) {
      s = { labels, count: 0, buckets: bounds.map(() => 0), sum: 0 };
      this.#requests.set(key, s);
    }
    s.count += n;
    for (const [ms, share] of LATENCY) {
      const value = (ms + addedMs) * scale;
      s.sum += n * share * value;
      bounds.forEach((b, i) => {
        if (value <= b) s.buckets[i]! += n * share;
      });
    }
  }
}
