import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseLabelSelector } from './selector.ts';
import { duration, strictObject } from './strict.ts';

/** Cluster names are typed in commands and printed on every report line, so keep them short and plain. */
export const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;
const SLACK_GROUP = /^S[A-Z0-9]{2,}$/;
const SLACK_CHANNEL = /^[CG][A-Z0-9]{2,}$/;

const cidr = z.string().refine((text) => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  return !!m?.slice(1, 5).every((o) => Number(o) <= 255) && Number(m?.[5]) <= 32;
}, 'must be an IPv4 CIDR such as 10.1.0.0/16');

const labelSelector = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9._/=!,()\s-]+$/, 'is not a Kubernetes label selector');
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'is not a Kubernetes name');

const slackUserOrGroup = z
  .string()
  .regex(
    new RegExp(`${SLACK_USER.source}|${SLACK_GROUP.source}`),
    'must be a Slack user ID (U…) or user group ID (S…), not a display name',
  );

export const PROFILES = ['istio-1.0', 'modern'] as const;

const componentSchema = strictObject({
  name: z.string().min(1),
  // Matched by meshops itself against the listed pods, so it must parse here rather than fail mid-check.
  selector: labelSelector.superRefine((text, ctx) => {
    try {
      parseLabelSelector(text, { allowEmpty: false });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not a label selector: ${(err as Error).message}` });
    }
  }),
  /** A component a role may legitimately lack (e.g. egress gateway) is reported but never fails the verdict. */
  optional: z.boolean().default(false),
});
export type ComponentSpec = z.infer<typeof componentSchema>;

const istioFields = {
  profile: z.enum(PROFILES, { error: `must be one of ${PROFILES.join(', ')}` }).optional(),
  namespace: k8sName.optional(),
};
/** Per cluster, `components` replaces the profile's list for that cluster's role. */
const clusterIstioSchema = strictObject({ ...istioFields, components: z.array(componentSchema).optional() });
/** Mesh-wide, the lists are per role: a primary and a remote run different components. */
const istioSchema = strictObject({
  ...istioFields,
  components: strictObject({
    primary: z.array(componentSchema).optional(),
    remote: z.array(componentSchema).optional(),
  }).optional(),
});

const podRef = strictObject({
  namespace: k8sName.optional(),
  selector: labelSelector.optional(),
  container: k8sName.optional(),
});

const routesRef = strictObject({ namespace: k8sName.optional(), selector: labelSelector.optional() });

const clusterSchema = strictObject({
  name: z
    .string()
    .regex(CLUSTER_NAME, 'must be lowercase letters, digits and dashes (it is typed in commands)'),
  role: z.enum(['primary', 'remote'], { error: 'must be primary or remote' }),
  /** Re-read when the file changes, so a rotated token needs no restart. */
  kubeconfig: z.string().min(1).optional(),
  /** The cluster meshops runs in, reached with the pod's own ServiceAccount instead of a kubeconfig. */
  inCluster: z.boolean().optional(),
  context: z.string().min(1).optional(),
  podCidrs: z.array(cidr).default([]),
  serviceCidrs: z.array(cidr).default([]),
  istio: clusterIstioSchema.optional(),
  vpn: strictObject({
    strongswan: podRef.optional(),
    probe: podRef.optional(),
    nodeProbe: podRef.optional(),
    routes: routesRef.optional(),
  }).optional(),
  /**
   * On a remote: the Secret in the primary's Istio namespace that holds this cluster's kubeconfig for
   * pilot. Unset, meshops looks for `<name>` (Istio 1.0) and `istio-remote-secret-<name>` (istioctl).
   */
  remoteSecret: k8sName.optional(),
  /**
   * The primary's Prometheus as a URL. Without it meshops goes through the API server's service proxy to
   * `prometheus:9090` in the Istio namespace (one credential; RBAC `services/proxy` on that Service).
   */
  prometheus: z
    .url({
      protocol: /^https?$/,
      error: 'must be an http(s) URL such as http://prometheus.istio-system:9090',
    })
    .optional(),
});

/** "5%" or a fraction such as 0.05: a bare 5 would be ambiguous (5 % or 500 %), so it is refused. */
const share = z.unknown().transform((value, ctx): number => {
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*%$/.exec(value.trim()) : null;
  const n = m ? Number(m[1]) / 100 : typeof value === 'number' ? value : Number.NaN;
  if (!(n >= 0 && n <= 1)) {
    ctx.addIssue({ code: 'custom', message: 'must be a percentage such as "5%" or a fraction such as 0.05' });
    return z.NEVER;
  }
  return n;
});

const VERIFY_DEFAULTS = {
  window: 5 * 60_000,
  interval: 30_000,
  maxErrorRate: 0.05,
  maxLatencyRatio: 2,
  minRequests: 20,
  revert: 'auto' as const,
};

/** The watch after an applied routing change: what is measured, when it counts as a breach, what then. */
const verifySchema = strictObject({
  window: duration.default(VERIFY_DEFAULTS.window),
  interval: duration.default(VERIFY_DEFAULTS.interval),
  maxErrorRate: share.default(VERIFY_DEFAULTS.maxErrorRate),
  maxLatencyRatio: z.number().gt(1, 'must be above 1 (a ratio to the p99 before the change)').default(2),
  /** Below this many requests to a version in a reading, nothing is judged ("too little traffic to judge"). */
  minRequests: z.number().int().min(1).default(VERIFY_DEFAULTS.minRequests),
  revert: z.enum(['auto', 'propose', 'off'], { error: 'must be auto, propose or off' }).default('auto'),
})
  .default(VERIFY_DEFAULTS)
  .superRefine((v, ctx) => {
    if (v.interval > v.window)
      ctx.addIssue({ code: 'custom', path: ['interval'], message: 'must not be longer than window' });
  });

const HISTORY_DEFAULTS = { maxEntries: 2000, maxAge: 7 * 86_400_000 };

const scheduleSchema = strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'must be lowercase letters, digits and dashes'),
  cron: z.string().min(1),
  timezone: z.string({ error: 'is required (no hidden local time): e.g. Europe/Berlin or UTC' }),
  channel: z.string().regex(SLACK_CHANNEL, 'must be a Slack channel ID such as C0789GHI'),
  checks: z
    .array(z.enum(['status', 'vpn', 'proxies']))
    .min(1)
    .default(['status', 'vpn']),
  mention: slackUserOrGroup.optional(),
  mode: z.enum(['digest', 'every-run']).default('digest'),
});

export const configSchema = strictObject({
  clusters: z.array(clusterSchema).min(1, 'must list at least one cluster'),
  istio: istioSchema.default({}),
  vpn: strictObject({
    strongswan: podRef.default({}),
    /** Where pings run from; by default the strongSwan pod itself. */
    probe: podRef.optional(),
    /**
     * The ordinary pods probes also start from, one per node: by default a pod in `default` with an
     * `istio-proxy` container (an injected app pod), exec'd in that container.
     */
    nodeProbe: podRef.optional(),
    /** The DaemonSet that routes pods into the tunnel on every node (default app=strongswan-routes). */
    routes: routesRef.optional(),
    /** The largest packet (IP header included) the tunnel must carry without fragmenting. */
    mtu: z.number().int().min(576).max(9000).default(1400),
    count: z.number().int().min(1).max(20).default(3),
    timeout: duration.default(2000),
    /**
     * Probe execs in flight per cluster (each cluster's API server and kubelets carry its own). An exec of
     * a probe mostly waits for replies, and API servers leave such long-running requests out of their
     * in-flight limits, so the default lets a ten-cluster check send all its probes in one wave.
     */
    concurrency: z.number().int().min(1).max(200).default(100),
    thresholds: strictObject({
      lossPercent: z.number().min(0).max(100).default(0),
      rttWarnMs: z.number().positive().default(100),
      rttChangePercent: z.number().positive().default(50),
    }).default({ lossPercent: 0, rttWarnMs: 100, rttChangePercent: 50 }),
  }).default({
    strongswan: {},
    mtu: 1400,
    count: 3,
    timeout: 2000,
    concurrency: 100,
    thresholds: { lossPercent: 0, rttWarnMs: 100, rttChangePercent: 50 },
  }),
  checks: strictObject({
    clusterTimeout: duration.default(5000),
    /** `/mesh certs`: proxies read per cluster at most (one per workload first), and how many at once. */
    certSample: z.number().int().min(1).max(500).default(20),
    certConcurrency: z.number().int().min(1).max(64).default(8),
  }).default({ clusterTimeout: 5000, certSample: 20, certConcurrency: 8 }),
  routing: strictObject({
    namespace: k8sName.default('default'),
    presets: z.string().min(1).optional(),
    preflight: z.enum(['block', 'warn']).default('block'),
    verify: verifySchema,
  }).default({ namespace: 'default', preflight: 'block', verify: VERIFY_DEFAULTS }),
  access: strictObject({
    operators: z.array(slackUserOrGroup).default([]),
    approvers: z.array(slackUserOrGroup).default([]),
    viewers: z.array(slackUserOrGroup).optional(),
    approvalTtl: duration.default(30 * 60_000),
    rateLimit: strictObject({
      commands: z.number().int().positive().default(10),
      per: duration.default(60_000),
    }).default({ commands: 10, per: 60_000 }),
  }).default({
    operators: [],
    approvers: [],
    approvalTtl: 30 * 60_000,
    rateLimit: { commands: 10, per: 60_000 },
  }),
  audit: strictObject({
    retention: duration.default(90 * 86_400_000),
    // Refusals are audited too, so a flood of them must not grow the stream without bound within the retention.
    maxEntries: z.number().int().min(1000).default(100_000),
  }).default({ retention: 90 * 86_400_000, maxEntries: 100_000 }),
  /**
   * Each status, VPN and proxy check run kept for comparison and the daily chart, per check kind: at most
   * `maxEntries` runs, none older than `maxAge` (a day at least: "since yesterday" and the chart need it).
   */
  history: strictObject({
    maxEntries: z.number().int().min(10).max(100_000).default(HISTORY_DEFAULTS.maxEntries),
    maxAge: duration
      .refine((ms) => ms >= 86_400_000, 'must be at least 1d (the digest charts the last 24 h)')
      .default(HISTORY_DEFAULTS.maxAge),
  }).default(HISTORY_DEFAULTS),
  schedules: z.array(scheduleSchema).default([]),
  drift: strictObject({
    autoRepair: z.enum(['off', 'propose']).default('off'),
  }).default({ autoRepair: 'off' }),
  jobs: strictObject({
    timeout: duration.default(60_000),
    concurrency: z.number().int().min(1).max(100).default(8),
  }).default({ timeout: 60_000, concurrency: 8 }),
}).superRefine((config, ctx) => {
  const primaries = config.clusters.filter((c) => c.role === 'primary');
  if (primaries.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['clusters'],
      message: `exactly one cluster must have role: primary (found ${primaries.length}${
        primaries.length > 1 ? `: ${primaries.map((c) => c.name).join(', ')}` : ''
      })`,
    });
  }
  const seen = new Set<string>();
  config.clusters.forEach((c, i) => {
    if (c.role === 'primary' && c.remoteSecret !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['clusters', i, 'remoteSecret'],
        message: `"${c.name}" is the primary: remoteSecret names a remote's secret on the primary, so set it on the remote's entry`,
      });
    }
    if (!c.inCluster === !c.kubeconfig)
      ctx.addIssue({
        code: 'custom',
        path: ['clusters', i, 'kubeconfig'],
        message: c.inCluster
          ? `cluster "${c.name}": set kubeconfig or inCluster: true, not both`
          : `cluster "${c.name}": is required (or inCluster: true for the cluster meshops runs in)`,
      });
    if (c.inCluster && c.context)
      ctx.addIssue({
        code: 'custom',
        path: ['clusters', i, 'context'],
        message: `cluster "${c.name}": a context needs a kubeconfig; inCluster uses the pod's ServiceAccount`,
      });
    if (seen.has(c.name)) {
      ctx.addIssue({ code: 'custom', path: ['clusters', i, 'name'], message: `"${c.name}" is used twice` });
    }
    seen.add(c.name);
  });
  const names = new Set<string>();
  config.schedules.forEach((s, i) => {
    if (names.has(s.name)) {
      ctx.addIssue({ code: 'custom', path: ['schedules', i, 'name'], message: `"${s.name}" is used twice` });
    }
    names.add(s.name);
    if (!isTimeZone(s.timezone)) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedules', i, 'timezone'],
        message: `schedule "${s.name}": unknown time zone "${s.timezone}" (use an IANA name such as Europe/Berlin or UTC)`,
      });
    }
    try {
      CronExpressionParser.parse(s.cron, { tz: isTimeZone(s.timezone) ? s.timezone : 'UTC', strict: false });
      if (s.cron.trim().split(/\s+/).length !== 5)
        throw new Error('expected 5 fields: minute hour day month weekday');
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedules', i, 'cron'],
        message: `schedule "${s.name}": invalid cron "${s.cron}": ${(err as Error).message}`,
      });
    }
  });
});

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export type MeshConfig = z.infer<typeof configSchema>;
export type ClusterConfig = MeshConfig['clusters'][number];
export type ScheduleConfig = MeshConfig['schedules'][number];
export type VerifyConfig = MeshConfig['routing']['verify'];
export type IstioProfile = (typeof PROFILES)[number];
