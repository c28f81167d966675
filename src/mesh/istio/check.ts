import type { MeshConfig } from '../../config/schema.ts';
import type { Clusters } from '../../kube/registry.ts';
import { detectDrift, primaryControlPlane, remoteControlPlane } from './drift.ts';
import { componentReport, dataPlaneReport, remoteSecretReports, unreachable } from './evaluate.ts';
import {
  componentFindings,
  type Draft,
  driftFindings,
  driftProblemFindings,
  notChecked,
  reachabilityFinding,
  remoteSecretFindings,
  sidecarFindings,
} from './findings.ts';
import { allFetched, type ClusterSnapshot, gatherCluster } from './gather.ts';
import { istioSetup } from './profiles.ts';
import type { ClusterReport, StatusReport } from './report.ts';
import { healthOf, meshHealth, resolveFindings, statusSummary, topFindings } from './verdict.ts';

/** What the check needs from a job context; a scheduler passes the same. */
export interface StatusCheckDeps {
  config: Pick<MeshConfig, 'istio' | 'checks'>;
  clusters: Clusters;
  now?: () => number;
}

type Judged = { report: Omit<ClusterReport, 'health'>; drafts: Draft[] };

/** The primary's side of the drift comparison: built once, every remote is compared with it. */
type Primary = { snapshot: ClusterSnapshot; live: ReturnType<typeof primaryControlPlane> };

function judge(s: ClusterSnapshot, primary: Primary | undefined, remotes: readonly string[]): Judged {
  const { cluster, setup } = s;
  const base = { name: cluster, role: s.role, profile: setup.profile, namespace: setup.namespace, ms: s.ms };
  const failure = unreachable(allFetched(s));
  if (failure) {
    return {
      report: {
        ...base,
        reachable: false,
        failure: { kind: failure.kind, reason: failure.reason },
        components: [],
      },
      drafts: [reachabilityFinding(cluster, s.role, failure)],
    };
  }
  const components = s.components.map((c) => componentReport(c.spec, c.pods));
  const drafts = componentFindings(cluster, s.role, setup.profile, setup.namespace, components, s.checkedAt);
  const report: Judged['report'] = { ...base, reachable: true, components };
  const primaryName = primary?.snapshot.cluster ?? cluster;

  if (s.namespaces.ok && s.workloads.ok) {
    report.dataPlane = dataPlaneReport(s.namespaces.value, s.workloads.value);
    drafts.push(...sidecarFindings(cluster, primaryName, setup.profile, report.dataPlane));
  } else {
    const why = !s.namespaces.ok ? s.namespaces : s.workloads;
    if (!why.ok) drafts.push(notChecked(cluster, 'data plane', 'data-plane', why.failure.reason));
  }

  if (s.role === 'primary' && s.remoteSecrets) {
    if (s.remoteSecrets.ok) {
      report.remoteSecrets = remoteSecretReports(s.remoteSecrets.value, remotes);
      drafts.push(...remoteSecretFindings(cluster, setup.profile, setup.namespace, report.remoteSecrets));
    } else {
      drafts.push(notChecked(cluster, 'remote secrets', 'remote-secrets', s.remoteSecrets.failure.reason));
    }
  }

  if (s.role === 'remote' && primary) {
    const { live } = primary;
    const given = remoteControlPlane(s);
    report.drift = detectDrift(given.state, live.state);
    drafts.push(
      ...driftFindings(cluster, primaryName, setup.profile, report.drift),
      ...driftProblemFindings(cluster, primaryName, [...live.problems, ...given.problems]),
    );
  }
  return { report, drafts };
}

/**
 * Judges gathered snapshots (pure): `snapshots` in config order, with the primary among them whenever a
 * remote is judged; `target` narrows the report to one cluster.
 */
export function judgeStatus(
  snapshots: readonly ClusterSnapshot[],
  target?: string,
): Omit<StatusReport, 'ms'> {
  const primary = snapshots.find((s) => s.role === 'primary');
  const focus = target === undefined ? undefined : snapshots.find((s) => s.cluster === target);
  if (target !== undefined && !focus) throw new Error(`no snapshot of cluster "${target}"`);
  const scope = focus ? [focus] : snapshots;
  const remotes = (focus?.role === 'remote' ? [focus] : snapshots.filter((s) => s.role === 'remote')).map(
    (s) => s.cluster,
  );
  const primarySide = primary ? { snapshot: primary, live: primaryControlPlane(primary) } : undefined;
  const judged = scope.map((s) => judge(s, primarySide, remotes));
  const drafts = judged.flatMap((j) => j.drafts);
  if (focus?.role === 'remote' && primary) drafts.push(...ownRemoteSecret(focus.cluster, primary));

  const findings = resolveFindings(
    drafts,
    scope.map((s) => s.cluster),
  );
  const clusters: ClusterReport[] = judged.map(({ report }) => ({
    ...report,
    health: healthOf(
      findings.filter((f) => f.cluster === report.name),
      !report.reachable,
    ),
  }));
  const top = topFindings(findings);
  return {
    checkedAt: new Date(scope[0]?.checkedAt ?? 0).toISOString(),
    ...(focus ? { cluster: focus.cluster } : {}),
    health: meshHealth(
      findings,
      clusters.map((r) => r.reachable),
    ),
    clusters,
    findings,
    top,
    summary: statusSummary({ findings, top, clusters }),
  };
}

/** A remote's secret lives on the primary: judged there although the primary is not reported. */
function ownRemoteSecret(remote: string, primary: ClusterSnapshot): Draft[] {
  const what = `its remote secret on ${primary.cluster}`;
  if (unreachable(allFetched(primary)))
    return [notChecked(remote, what, 'remote-secret', `${primary.cluster} is not reachable`)];
  if (!primary.remoteSecrets) return [];
  if (!primary.remoteSecrets.ok)
    return [notChecked(remote, what, 'remote-secret', primary.remoteSecrets.failure.reason)];
  const reports = remoteSecretReports(primary.remoteSecrets.value, [remote]);
  return remoteSecretFindings(primary.cluster, primary.setup.profile, primary.setup.namespace, reports);
}

/**
 * `/mesh status` as a function: asks every cluster in scope at once (each under its own timeout), judges
 * the answers and returns typed, JSON-serializable data. A remote in scope brings the primary along,
 * because its drift and its remote secret are judged there.
 */
export async function runStatusCheck(
  deps: StatusCheckDeps,
  options: { cluster?: string } = {},
): Promise<StatusReport> {
  const started = performance.now();
  const { config, clusters } = deps;
  const target = options.cluster === undefined ? undefined : clusters.get(options.cluster);
  if (options.cluster !== undefined && !target)
    throw new Error(`unknown cluster "${options.cluster}"; configured: ${clusters.names().join(', ')}`);
  const asked = clusters.all.filter(
    (c) => !target || c === target || (target.role === 'remote' && c.role === 'primary'),
  );
  const snapshots = await Promise.all(
    asked.map((c) =>
      gatherCluster(c, istioSetup(config, c.config), {
        timeoutMs: config.checks.clusterTimeout,
        remotes: clusters.remotes.map((r) => r.name),
        ...(deps.now ? { now: deps.now } : {}),
      }),
    ),
  );
  return { ...judgeStatus(snapshots, target?.name), ms: performance.now() - started };
}
