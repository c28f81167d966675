import type { Health } from '../health.ts';
import type { StatusFinding } from '../istio/report.ts';
import type { HeldCert } from './envoy-certs.ts';

export type ProxyCertReading =
  | {
      namespace: string;
      pod: string;
      ok: true;
      source: 'envoy-1.0' | 'envoy' | 'pem';
      roots: HeldCert[];
      workload?: HeldCert;
    }
  | { namespace: string; pod: string; ok: false; reason: string; forbidden?: boolean };

export interface ClusterCerts {
  name: string;
  role: 'primary' | 'remote';
  /** Running sidecars in injected namespaces. */
  sidecars: number;
  /** Proxies asked (at most the cap, one per workload first). */
  readings: ProxyCertReading[];
  /** Every distinct root the sampled proxies trust, soonest to expire first. */
  roots: HeldCert[];
  /** The workload certificate that expires first, with its pod. */
  worstWorkload?: { namespace: string; pod: string; cert: HeldCert };
  failure?: string;
}

export interface CertsReport {
  checkedAt: string;
  cluster?: string;
  health: Health;
  /** Proxies sampled per cluster at most. */
  cap: number;
  clusters: ClusterCerts[];
  /** Whether every cluster's proxies chain to the same root; undefined when fewer than two clusters were read. */
  sharedRoot?: boolean;
  findings: StatusFinding[];
  top: string[];
  summary: string;
  ms: number;
}
