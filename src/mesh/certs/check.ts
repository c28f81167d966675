import type { MeshConfig } from '../../config/schema.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import type { Clusters } from '../../kube/registry.ts';
import type { Draft } from '../istio/findings.ts';
import { istioSetup } from '../istio/profiles.ts';
import type { UnknownProxy } from '../istio/report.ts';
import { listSidecars } from '../istio/sidecars.ts';
import { meshHealth, resolveFindings, topFindings } from '../istio/verdict.ts';
import { mapLimit } from '../vpn/pool.ts';
import {
  CERTS_ARGV,
  type CertsReading,
  CHAIN_PEM_ARGV,
  type HeldCert,
  PROXY_CONTAINER,
  parseCerts,
  parsePemFiles,
  ROOT_PEM_ARGV,
} from './envoy-certs.ts';
import type { CertsReport, ClusterCerts, ProxyCertReading } from './report.ts';

export interface CertsCheckDeps {
  config: Pick<MeshConfig, 'istio' | 'checks'>;
  clusters: Clusters;
  now?: () => number;
}

/** Days left at which a finding is raised (issue #20): 30 warns, 7 is urgent; an expired root is critical. */
export const WARN_DAYS = 30;
export const URGENT_DAYS = 7;

/**
 * One proxy per workload first (pods of one service account hold the same certificate), then more of
 * them, up to the cap: the widest view of the mesh for a bounded number of execs.
 */
export function sample(sidecars: readonly UnknownProxy[], cap: number): UnknownProxy[] {
  const ordered = [...sidecars].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod),
  );
  const seen = new Set<string>();
  const first: UnknownProxy[] = [];
  const rest: UnknownProxy[] = [];
  for (const s of ordered) {
    const key = `${s.namespace}/${s.workload}`;
    (seen.has(key) ? rest : first).push(s);
    seen.add(key);
  }
  return [...first, ...rest].slice(0, cap);
}

async function readProxy(
  cluster: Cluster,
  proxy: UnknownProxy,
  legacy: boolean,
  timeoutMs: number,
  now: number,
): Promise<ProxyCertReading> {
  const run = (command: readonly string[]) =>
    cluster.exec({
      namespace: proxy.namespace,
      pod: proxy.pod,
      container: PROXY_CONTAINER,
      command,
      timeoutMs,
    });
  const where = { namespace: proxy.namespace, pod: proxy.pod };
  try {
    // Istio 1.0 sidecars often hold no TLS context (mutual TLS off), so the mounted files are read at once
    // with /certs rather than after it: one round of execs per proxy instead of two.
    const [answer, files] = await Promise.all([
      run(CERTS_ARGV),
      legacy ? Promise.all([run(ROOT_PEM_ARGV), run(CHAIN_PEM_ARGV)]) : undefined,
    ]);
    let reading: CertsReading =
      answer.exitCode === 0
        ? parseCerts(answer.stdout, now)
        : { kind: 'unparsed', reason: answer.stderr.trim().split('\n')[0] || `exit code ${answer.exitCode}` };
    if (reading.kind === 'empty') {
      const [root, chain] = files ?? [];
      reading =
        root?.exitCode === 0 && chain?.exitCode === 0
          ? parsePemFiles(root.stdout, chain.stdout, now)
          : {
              kind: 'unparsed',
              reason: 'Envoy holds no TLS context and no certificate is mounted at /etc/certs',
            };
    }
    switch (reading.kind) {
      case 'certs':
        return {
          ...where,
          ok: true,
          source: reading.source,
          roots: reading.certs.roots,
          ...(reading.certs.workload ? { workload: reading.certs.workload } : {}),
        };
      case 'empty':
        return { ...where, ok: false, reason: 'the proxy holds no certificate' };
      default:
        return { ...where, ok: false, reason: reading.reason };
    }
  } catch (err) {
    const failure = classifyKubeError(err, timeoutMs);
    return { ...where, ok: false, reason: failure.reason, forbidden: failure.kind === 'forbidden' };
  }
}

const bySoonest = (a: HeldCert, b: HeldCert) => a.days - b.days || a.serial.localeCompare(b.serial);

export function summarizeCluster(
  cluster: { name: string; role: 'primary' | 'remote' },
  sidecars: number,
  readings: ProxyCertReading[],
  failure?: string,
): ClusterCerts {
  const roots = new Map<string, HeldCert>();
  let worst: ClusterCerts['worstWorkload'];
  for (const r of readings) {
    if (!r.ok) continue;
    for (const root of r.roots) {
      const seen = roots.get(root.serial);
      if (!seen || root.days < seen.days) roots.set(root.serial, root);
    }
    if (r.workload && (!worst || r.workload.days < worst.cert.days))
      worst = { namespace: r.namespace, pod: r.pod, cert: r.workload };
  }
  return {
    name: cluster.name,
    role: cluster.role,
    sidecars,
    readings,
    roots: [...roots.values()].sort(bySoonest),
    ...(worst ? { worstWorkload: worst } : {}),
    ...(failure ? { failure } : {}),
  };
}

const days = (n: number) =>
  n < 0 ? `expired ${-n} day${n === -1 ? '' : 's'} ago` : `expires in ${n} day${n === 1 ? '' : 's'}`;

const ROOT_ACTION =
  'rotate the root before it expires (istio.io: Extending Istio Self-Signed Root Certificate Lifetime); Istio 1.0 sidecars older than 1.0.8 must be upgraded first, they cannot reload a new root';

/** Workload certificates live 90 days in Istio 1.0 and about a day in modern Istio; Citadel renews at half-life. */
function workloadDraft(c: ClusterCerts): Draft | undefined {
  const w = c.worstWorkload;
  if (!w) return undefined;
  const base = {
    id: `${c.name}/certs/workload`,
    cluster: c.name,
    area: 'certificate' as const,
    action: `Citadel should have renewed it at half its lifetime: check the CA (istio-citadel or istiod) logs on ${c.name}`,
  };
  const what = `${c.name}: the workload certificate of ${w.pod}.${w.namespace} (serial ${w.cert.serial})`;
  if (w.cert.days < 0)
    return {
      ...base,
      severity: 'critical',
      text: `${what} ${days(w.cert.days)} — its mTLS connections fail`,
    };
  // Short-lived certificates are always within days of expiry; only an expired one says something.
  if (w.cert.lifetimeDays !== undefined && w.cert.lifetimeDays <= 2 * WARN_DAYS) return undefined;
  if (w.cert.days <= URGENT_DAYS)
    return { ...base, severity: 'warning', text: `${what} ${days(w.cert.days)}` };
  if (w.cert.days <= WARN_DAYS) return { ...base, severity: 'info', text: `${what} ${days(w.cert.days)}` };
  return undefined;
}

function clusterDrafts(c: ClusterCerts, cap: number): Draft[] {
  const drafts: Draft[] = [];
  const root = c.roots[0];
  if (root && root.days <= WARN_DAYS) {
    drafts.push({
      id: `${c.name}/certs/root`,
      cluster: c.name,
      area: 'certificate',
      severity: root.days <= URGENT_DAYS ? 'critical' : 'warning',
      text:
        root.days < 0
          ? `${c.name}: the mesh root certificate (serial ${root.serial}) ${days(root.days)} — no workload certificate can be validated, mTLS fails mesh-wide`
          : `${c.name}: the mesh root certificate (serial ${root.serial}) ${days(root.days)}`,
      action: ROOT_ACTION,
    });
  }
  if (c.roots.length > 1) {
    drafts.push({
      id: `${c.name}/certs/roots`,
      cluster: c.name,
      area: 'certificate',
      severity: 'warning',
      text: `${c.name}: proxies trust ${c.roots.length} different roots (${c.roots.map((r) => r.serial).join(', ')}) — a root was replaced and some proxies still hold the old one`,
      action: 'restart the proxies that still hold the old root once the new one is in place',
    });
  }
  const workload = workloadDraft(c);
  if (workload) drafts.push(workload);
  const failed = c.readings.filter((r) => !r.ok);
  if (c.failure || (c.readings.length > 0 && failed.length === c.readings.length)) {
    const why = c.failure ?? (failed[0] && !failed[0].ok ? failed[0].reason : '');
    drafts.push({
      id: `${c.name}/certs/read`,
      cluster: c.name,
      area: 'not-checked',
      severity: 'warning',
      text: `${c.name}: no proxy's certificates could be read — ${why}`,
      action: failed.some((r) => !r.ok && r.forbidden)
        ? 'grant meshops pods/exec in the injected namespaces (deploy/rbac/common.yaml)'
        : 'check the proxies with kubectl exec … -c istio-proxy -- pilot-agent request GET certs',
    });
  } else if (failed.length > 0) {
    drafts.push({
      id: `${c.name}/certs/read`,
      cluster: c.name,
      area: 'not-checked',
      severity: 'info',
      text: `${c.name}: ${failed.length} of ${c.readings.length} sampled proxies did not answer (${failed
        .slice(0, 3)
        .map((r) => `${r.pod}: ${!r.ok ? r.reason : ''}`)
        .join('; ')})`,
    });
  }
  if (c.sidecars > cap) {
    drafts.push({
      id: `${c.name}/certs/sampled`,
      cluster: c.name,
      area: 'certificate',
      severity: 'info',
      text: `${c.name}: ${c.readings.length} of ${c.sidecars} proxies sampled (one per workload first)`,
    });
  }
  return drafts;
}

/** Do the clusters chain to one root? Compared on the root each cluster's proxies trust. */
export function sharedRoot(clusters: readonly ClusterCerts[]): boolean | undefined {
  const read = clusters.filter((c) => c.roots.length > 0);
  if (read.length < 2) return undefined;
  const serials = new Set(
    read.map((c) =>
      c.roots
        .map((r) => r.serial)
        .sort()
        .join(','),
    ),
  );
  return serials.size === 1;
}

export function judgeCerts(
  clusters: ClusterCerts[],
  cap: number,
  target?: string,
): Omit<CertsReport, 'ms' | 'checkedAt'> {
  const drafts = clusters.flatMap((c) => clusterDrafts(c, cap));
  const shared = sharedRoot(clusters);
  if (shared === false) {
    const names = clusters.filter((c) => c.roots.length > 0);
    drafts.push({
      id: 'mesh/certs/root-mismatch',
      cluster: names[0]!.name,
      area: 'certificate',
      severity: 'critical',
      text: `${names.map((c) => `${c.name} trusts ${c.roots.map((r) => r.serial).join(', ')}`).join('; ')} — the clusters do not chain to the same root, so mTLS across the VPN fails`,
      action:
        "plug the same CA into every cluster (the `cacerts` secret from one root, as istio.io's multicluster install requires) and restart Citadel and the proxies",
    });
  }
  const findings = resolveFindings(
    drafts,
    clusters.map((c) => c.name),
  );
  const roots = clusters.flatMap((c) => c.roots).sort(bySoonest);
  const worst = clusters
    .flatMap((c) => (c.worstWorkload ? [c.worstWorkload] : []))
    .sort((a, b) => bySoonest(a.cert, b.cert))[0];
  const parts = [
    roots[0] ? `root ${days(roots[0].days)}` : 'no root read',
    ...(worst
      ? [`first workload certificate ${days(worst.cert.days)} (${worst.pod}.${worst.namespace})`]
      : []),
    ...(shared === undefined ? [] : [shared ? 'one root for every cluster' : 'clusters do NOT share a root']),
  ];
  return {
    ...(target === undefined ? {} : { cluster: target }),
    health: meshHealth(findings, []),
    cap,
    clusters,
    ...(shared === undefined ? {} : { sharedRoot: shared }),
    findings,
    top: topFindings(findings),
    summary: parts.join(', '),
  };
}

/**
 * `/mesh certs [cluster]`: per cluster, list the sidecars and read the certificates of a sample of them,
 * a bounded number of execs at a time; every cluster at once.
 */
export async function runCertsCheck(
  deps: CertsCheckDeps,
  options: { cluster?: string } = {},
): Promise<CertsReport> {
  const started = performance.now();
  const now = (deps.now ?? Date.now)();
  const { clusters, config } = deps;
  const target = options.cluster === undefined ? undefined : clusters.get(options.cluster);
  if (options.cluster !== undefined && !target)
    throw new Error(`unknown cluster "${options.cluster}"; configured: ${clusters.names().join(', ')}`);
  const { clusterTimeout, certSample, certConcurrency } = config.checks;
  const scope = target ? [target] : clusters.all;
  const judged = await Promise.all(
    scope.map(async (c) => {
      const pods = await listSidecars(c, clusterTimeout);
      if (!pods.ok) return summarizeCluster(c, 0, [], pods.failure);
      const chosen = sample(pods.sidecars, certSample);
      const legacy = istioSetup(config, c.config).profile === 'istio-1.0';
      const readings = await mapLimit(
        chosen,
        certConcurrency,
        (p) => readProxy(c, p, legacy, clusterTimeout, now),
        {
          onAbort: (p) => ({ namespace: p.namespace, pod: p.pod, ok: false as const, reason: 'cancelled' }),
        },
      );
      return summarizeCluster(c, pods.sidecars.length, readings);
    }),
  );
  return {
    checkedAt: new Date(now).toISOString(),
    ...judgeCerts(judged, certSample, options.cluster),
    ms: performance.now() - started,
  };
}
