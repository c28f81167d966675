import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * meshops' Prometheus metrics. One registry per process; handlers record through the named metrics below
 * so the dashboard in deploy/ and the code agree on one set of names.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'meshops_' });

export const metrics = {
  commands: new Counter({
    name: 'meshops_commands_total',
    help: 'Slash commands received, by subcommand and outcome (queued, refused, forbidden, rate_limited, …)',
    labelNames: ['subcommand', 'outcome'] as const,
    registers: [registry],
  }),
  jobDuration: new Histogram({
    name: 'meshops_job_duration_seconds',
    help: 'Time a worker spent on a job, by job name and outcome',
    labelNames: ['job', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  }),
  queueJobs: new Gauge({
    name: 'meshops_queue_jobs',
    help: 'Jobs in the queue by state (waiting, active, delayed, failed)',
    labelNames: ['state'] as const,
    registers: [registry],
  }),
  slackErrors: new Counter({
    name: 'meshops_slack_api_errors_total',
    help: 'Slack Web API errors by method and error code (http_5xx, ratelimited, not_in_channel, …)',
    labelNames: ['method', 'code'] as const,
    registers: [registry],
  }),
  slackRateLimited: new Counter({
    name: 'meshops_slack_rate_limited_total',
    help: 'Slack 429 answers by method',
    labelNames: ['method'] as const,
    registers: [registry],
  }),
  clusterErrors: new Counter({
    name: 'meshops_cluster_api_errors_total',
    help: 'Kubernetes API errors by cluster and kind (timeout, refused, unauthorized, server-error, …)',
    labelNames: ['cluster', 'kind'] as const,
    registers: [registry],
  }),
  vpnLoss: new Gauge({
    name: 'meshops_vpn_loss_ratio',
    help: 'Packet loss of the last probe, 0..1, per probe pair',
    labelNames: ['from', 'to', 'target'] as const,
    registers: [registry],
  }),
  vpnRtt: new Gauge({
    name: 'meshops_vpn_rtt_seconds',
    help: 'Average round-trip time of the last probe per pair',
    labelNames: ['from', 'to', 'target'] as const,
    registers: [registry],
  }),
  healthVerdict: new Gauge({
    name: 'meshops_health_verdict',
    help: 'Last status verdict per cluster: 0 healthy, 1 degraded, 2 down, 3 the check failed',
    labelNames: ['cluster'] as const,
    registers: [registry],
  }),
  redisReplicaWaitShort: new Counter({
    name: 'meshops_redis_replica_wait_short_total',
    help: 'Acked commands and clicks, and approval decisions, that went on before the wanted number of Redis replicas confirmed them (WAIT ran out of time)',
    registers: [registry],
  }),
  auditEntries: new Counter({
    name: 'meshops_audit_entries_total',
    help: 'Entries appended to the audit stream, by action (requested, approved, applied, …) and kind (change or refused command)',
    labelNames: ['action', 'kind'] as const,
    registers: [registry],
  }),
  driftFindings: new Gauge({
    name: 'meshops_drift_findings',
    help: 'Places where a remote still points at an old control-plane address, per remote, at the last status check',
    labelNames: ['cluster'] as const,
    registers: [registry],
  }),
  socketReconnects: new Counter({
    name: 'meshops_socket_mode_reconnects_total',
    help: 'Socket Mode reconnects, by reason (stale, disconnect)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
};

export const VERDICT_LEVEL = { healthy: 0, degraded: 1, down: 2, failed: 3 } as const;
