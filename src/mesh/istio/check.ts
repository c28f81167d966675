import type { MeshConfig } from '../../config/schema.ts';
import { strongswanSelector } from '../../config/vpn-pods.ts';
import type { KubeFailure } from '../../kube/errors.ts';
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
import { readSyncz, type SynczReading } from './pilot.ts';
import { DISCOVERY, istioSetup } from './profiles.ts';
import { assessProxies } from './proxy-sync.ts';
import type { ClusterReport, StatusReport } from './report.ts';
import type { SidecarPods } from './sidecars.ts';
import { proxyState } from './syncz.ts';
import { healthOf, meshHealth, resolveFindings, statusSummary, topFindings } from './verdict.ts';
import { clusterVersions, referenceTag, remoteIstioVersion, versionDrafts } from './versions.ts';
import { injectorDown, workloadFindings } from './workloads.ts';

/** What the check needs from a job context; a scheduler passes the same. */
export interface StatusCheckDeps {
  config: Pick<MeshConfig, 'istio' | 'checks' | 'vpn'>;
  clusters: Clusters;
  now?: () => number;
}

type Judged = { report: Omit<ClusterReport, 'health'>; drafts: Draft[] };

/** The primary's side of the drift comparison: built once, every remote is compared with it. */
type Primary = {
  snapshot: ClusterSnapshot;
  live: ReturnType<typeof primaryControlPlane>;
  /** The primary's discovery image tag: every cluster's versions are compared with it. */
  reference: string | undefined;
};

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
  const versions = clusterVersions(s);
  const drafts = componentFindings(cluster, s.role, setup.profile, setup.namespace, components, s.checkedAt);
  const report: Judged['report'] = { ...base, reachable: true, components, versions };
  drafts.push(
    ...versionDrafts(
      cluster,
      primary?.snapshot.cluster ?? cluster,
      primary?.reference,
      versions,
      s.role === 'remote',
      DISCOVERY[setup.profile],
    ),
  );
  const primaryName = primary?.snapshot.cluster ?? cluster;

  if (s.namespaces.ok && s.workloads.ok) {
    report.dataPlane = dataPlaneReport(s.namespaces.value, s.workloads.value);
    drafts.push(...sidecarFindings(cluster, primaryName, setup.profile, report.dataPlane));
  } else {
    const why = !s.namespaces.ok ? s.namespaces : s.workloads;
    if (!why.ok) drafts.push(notChecked(cluster, 'data plane', 'data-plane', why.failure.reason));
  }

  if (s.controllers.ok && s.namespaces.ok) {
    const injected = new Set(s.namespaces.value.filter((n) => n.injection).map((n) => n.name));
    const services = s.services?.ok ? s.services.value : undefined;
    const injector = injectorDown(components, services, s.istioPods.ok ? s.istioPods.value : []);
    drafts.push(...workloadFindings(cluster, setup.namespace, s.controllers.value, injected, injector));
  } else if (!s.controllers.ok) {
    drafts.push(notChecked(cluster, 'Deployments and DaemonSets', 'workloads', s.controllers.failure.reason));
  }

  if (s.role === 'primary' && s.remoteSecrets) {
    if (s.remoteSecrets.ok) {
      report.remoteSecrets = remoteSecretReports(s.remoteSecrets.value, remotes);
      drafts.push(...remoteSecretFindings(cluster, setup.profile, setup.namespace, report.remoteSecrets));
    } else {
      drafts.push(remoteSecretsNotChecked(cluster, setup.namespace, s.remoteSecrets.failure));
    }
  }

  if (s.role === 'remote' && primary) {
    const { live } = primary;
    const given = remoteControlPlane(s, remoteIstioVersion(versions, primary.reference));
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
  syncz?: SynczReading,
): Omit<StatusReport, 'ms'> {
  const primary = snapshots.find((s) => s.role === 'primary');
  const focus = target === undefined ? undefined : snapshots.find((s) => s.cluster === target);
  if (target !== undefined && !focus) throw new Error(`no snapshot of cluster "${target}"`);
  const scope = focus ? [focus] : snapshots;
  const remotes = (focus?.role === 'remote' ? [focus] : snapshots.filter((s) => s.role === 'remote')).map(
    (s) => s.cluster,
  );
  const primarySide = primary
    ? {
        snapshot: primary,
        live: primaryControlPlane(primary),
        reference: unreachable(allFetched(primary))
          ? undefined
          : referenceTag(primary, clusterVersions(primary)),
      }
    : undefined;
  const judged = scope.map((s) => judge(s, primarySide, remotes));
  const drafts = judged.flatMap((j) => j.drafts);
  if (focus?.role === 'remote' && primary) drafts.push(...ownRemoteSecret(focus.cluster, primary));
  const proxies =
    primary && syncz
      ? assessProxies(primary.cluster, primary.setup.profile, syncz, snapshots.map(snapshotSidecars), target)
      : undefined;
  if (proxies) drafts.push(...proxies.drafts);

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
  const proxyLine = proxies
    ? {
        summary: proxies.summary,
        counts: proxies.counts,
        stale: proxies.clusters.flatMap((c) =>
          c.proxies.filter((p) => proxyState(p) === 'stale').map((p) => p.id),
        ),
      }
    : undefined;
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
    ...(proxyLine ? { proxies: proxyLine } : {}),
    summary: statusSummary({ findings, top, clusters, ...(proxyLine ? { proxies: proxyLine } : {}) }),
  };
}

/** The sidecars a status snapshot already holds, so the proxy line costs no extra list call. */
function snapshotSidecars(s: ClusterSnapshot): SidecarPods {
  const base = { cluster: s.cluster, role: s.role };
  // The status check already says why a cluster's pods could not be read; no second finding for it.
  if (!s.workloads.ok) return { ...base, ok: false, podIds: new Set(), sidecars: [] };
  const pods = [...s.components.flatMap((c) => (c.pods.ok ? c.pods.value : [])), ...s.workloads.value];
  return {
    ...base,
    ok: true,
    podIds: new Set(pods.map((p) => `${p.state.name}.${p.state.namespace}`)),
    sidecars: s.workloads.value
      .filter((p) => p.sidecar !== 'missing' && p.state.status === 'Running' && !p.state.terminating)
      .map((p) => ({ namespace: p.state.namespace, pod: p.state.name, workload: p.workload })),
  };
}

/**
 * meshops reads remote secrets only by the names its RBAC grants (deploy/rbac/primary.yaml): a 403 means the
 * name it tried is not the one granted, or the grant lacks it.
 */
function secretGrantAction(namespace: string, failure: KubeFailure): { action?: string } {
  if (failure.kind !== 'forbidden') return {};
  return {
    action: `list the remote secrets with kubectl get secret -n ${namespace} -l istio/multiCluster=true, set clusters[].remoteSecret of each remote to its secret, then re-apply the Role meshops-remote-secrets on the primary as npm run rbac -- --config <meshops config> renders it (deploy/rbac/primary.yaml with those names)`,
  };
}

function remoteSecretsNotChecked(cluster: string, namespace: string, failure: KubeFailure): Draft {
  return {
    ...notChecked(cluster, 'remote secrets', 'remote-secrets', failure.reason),
    ...secretGrantAction(namespace, failure),
  };
}

/** A remote's secret lives on the primary: judged there although the primary is not reported. */
function ownRemoteSecret(remote: string, primary: ClusterSnapshot): Draft[] {
  const what = `its remote secret on ${primary.cluster}`;
  if (unreachable(allFetched(primary)))
    return [notChecked(remote, what, 'remote-secret', `${primary.cluster} is not reachable`)];
  if (!primary.remoteSecrets) return [];
  if (!primary.remoteSecrets.ok)
    return [
      {
        ...notChecked(remote, what, 'remote-secret', primary.remoteSecrets.failure.reason),
        ...secretGrantAction(primary.setup.namespace, primary.remoteSecrets.failure),
      },
    ];
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
  const primary = asked.find((c) => c.role === 'primary');
  // Pilot's proxy list is read alongside the cluster calls: one list and one exec per pilot pod.
  const [snapshots, syncz] = await Promise.all([
    Promise.all(
      asked.map((c) =>
        gatherCluster(c, istioSetup(config, c.config), {
          timeoutMs: config.checks.clusterTimeout,
          remotes: clusters.remotes.map((r) => ({
            name: r.name,
            server: r.server,
            ...(r.config.remoteSecret ? { secret: r.config.remoteSecret } : {}),
          })),
          // The IPsec gateway only: a probe pod elsewhere may well belong in the mesh.
          vpnPods: [strongswanSelector(config, c)],
          vpnNamespace: strongswanSelector(config, c).namespace,
          ...(deps.now ? { now: deps.now } : {}),
        }),
      ),
    ),
    primary
      ? readSyncz(primary, istioSetup(config, primary.config), config.checks.clusterTimeout)
      : undefined,
  ]);
  return { ...judgeStatus(snapshots, target?.name, syncz), ms: performance.now() - started };
}
