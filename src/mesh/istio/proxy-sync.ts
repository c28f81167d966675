import { plural } from '../../chat/mrkdwn.ts';
import type { IstioProfile } from '../../config/schema.ts';
import type { Draft } from './findings.ts';
import type { SynczReading } from './pilot.ts';
import { DISCOVERY } from './profiles.ts';
import type { ClusterProxies, ProxyCounts } from './report.ts';
import type { SidecarPods } from './sidecars.ts';
import { type ProxySync, proxyState } from './syncz.ts';

const MAX_NAMED = 3;
function named(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_NAMED).join(', ');
  return ids.length > MAX_NAMED ? `${shown} and ${ids.length - MAX_NAMED} more` : shown;
}

/** Which cluster a proxy lives in: the one pilot names (modern), else the one with that pod. */
function placeOf(p: ProxySync, pods: readonly SidecarPods[]): string | undefined {
  if (p.clusterId && pods.some((c) => c.cluster === p.clusterId)) return p.clusterId;
  return pods.find((c) => c.podIds.has(p.id))?.cluster;
}

export function countProxies(
  clusters: readonly ClusterProxies[],
  elsewhere: readonly ProxySync[],
): ProxyCounts {
  const all = [...clusters.flatMap((c) => c.proxies), ...elsewhere];
  const states = all.map(proxyState);
  return {
    total: all.length,
    synced: states.filter((s) => s === 'synced').length,
    stale: states.filter((s) => s === 'stale').length,
    notSent: states.filter((s) => s === 'not-sent').length,
    unknown: clusters.reduce((n, c) => n + c.unknown.length, 0),
  };
}

export function proxiesSummary(counts: ProxyCounts, failure?: string): string {
  if (failure) return `proxy sync not read: ${failure}`;
  const parts = [`${counts.synced}/${plural(counts.total, 'proxy', 'proxies')} in sync`];
  if (counts.stale > 0) parts.push(`${counts.stale} STALE`);
  if (counts.notSent > 0) parts.push(`${counts.notSent} waiting for a first push`);
  if (counts.unknown > 0) parts.push(`${counts.unknown} not connected to pilot`);
  return parts.join(', ');
}

function clusterDrafts(c: ClusterProxies, primary: string, pilot: string): Draft[] {
  const drafts: Draft[] = [];
  const stale = c.proxies.filter((p) => proxyState(p) === 'stale').map((p) => p.id);
  const waiting = c.proxies.filter((p) => proxyState(p) === 'not-sent').map((p) => p.id);
  if (stale.length > 0) {
    drafts.push({
      id: `${c.name}/proxies/stale`,
      cluster: c.name,
      area: 'proxy-sync',
      severity: 'warning',
      text: `${c.name}: ${plural(stale.length, 'proxy', 'proxies')} STALE — ${pilot} sends configuration that is not acknowledged (${named(stale)})`,
      action:
        c.role === 'remote'
          ? `check the VPN between ${c.name} and ${primary} (/mesh vpn): the proxies still hold a connection that carries nothing`
          : 'look at the proxy logs (kubectl logs -c istio-proxy) for rejected configuration',
      explainedBy: [`${primary}/component/${pilot}`],
    });
  }
  if (c.unknown.length > 0) {
    const ids = c.unknown.map((u) => `${u.pod}.${u.namespace}`);
    drafts.push({
      id: `${c.name}/proxies/unknown`,
      cluster: c.name,
      area: 'proxy-sync',
      severity: 'warning',
      text: `${c.name}: ${plural(ids.length, 'sidecar')} running but not connected to ${pilot} — they keep serving their last configuration (${named(ids)})`,
      action:
        c.role === 'remote'
          ? `the remote lost its connection to ${pilot}: check address drift (/mesh status ${c.name}) and the VPN, then restart the pods`
          : `check ${pilot}'s logs and the pods' istio-proxy logs for connection errors`,
      explainedBy: [`${primary}/component/${pilot}`, `${c.name}/drift/${pilot}`, `${c.name}/reachability`],
    });
  }
  if (waiting.length > 0) {
    drafts.push({
      id: `${c.name}/proxies/not-sent`,
      cluster: c.name,
      area: 'proxy-sync',
      severity: 'info',
      text: `${c.name}: ${plural(waiting.length, 'proxy', 'proxies')} connected but waiting for a first push (NOT SENT), as after a ${pilot} restart (${named(waiting)})`,
    });
  }
  if (c.failure) {
    drafts.push({
      id: `${c.name}/proxies/pods`,
      cluster: c.name,
      area: 'not-checked',
      severity: 'warning',
      text: `${c.name}: sidecars not compared with ${pilot}'s list — ${c.failure}`,
      action: "check meshops' access to the cluster (/mesh clusters)",
    });
  }
  return drafts;
}

/** What a syncz reading says against the clusters' pods, before the findings are ordered. */
export interface ProxiesAssessment {
  clusters: ClusterProxies[];
  elsewhere: ProxySync[];
  counts: ProxyCounts;
  summary: string;
  drafts: Draft[];
}

/** Judges one syncz reading against the clusters' pods (pure); `/mesh status` merges the drafts with its own. */
export function assessProxies(
  primary: string,
  profile: IstioProfile,
  reading: SynczReading,
  pods: readonly SidecarPods[],
  target?: string,
): ProxiesAssessment {
  const pilot = DISCOVERY[profile];
  const known = new Set(reading.proxies.map((p) => p.id));
  const placed = new Map<string, ProxySync[]>();
  const elsewhere: ProxySync[] = [];
  for (const p of reading.proxies) {
    const where = placeOf(p, pods);
    if (where === undefined) elsewhere.push(p);
    else placed.set(where, [...(placed.get(where) ?? []), p]);
  }
  const failedPilots = reading.pilots.filter((p) => !p.ok);
  const noList = reading.failure !== undefined || failedPilots.length === reading.pilots.length;
  const scope = target === undefined ? pods : pods.filter((c) => c.cluster === target);
  const clusters: ClusterProxies[] = scope.map((c) => ({
    name: c.cluster,
    role: c.role,
    proxies: placed.get(c.cluster) ?? [],
    // Without pilot's list nothing can be called unknown.
    unknown: noList ? [] : c.sidecars.filter((s) => !known.has(`${s.pod}.${s.namespace}`)),
    ...(c.failure ? { failure: c.failure } : {}),
  }));
  const shownElsewhere = target === undefined ? elsewhere : [];
  const drafts: Draft[] = [];
  if (noList) {
    const why = reading.failure ?? failedPilots.map((p) => `${p.pod}: ${p.reason}`).join('; ');
    drafts.push({
      id: `${primary}/proxies/syncz`,
      cluster: primary,
      area: 'not-checked',
      severity: 'warning',
      text: `${primary}: ${pilot}'s proxy list (/debug/syncz) could not be read — ${why}`,
      explainedBy: [`${primary}/reachability`, `${primary}/component/${pilot}`],
      action: failedPilots.some((p) => p.forbidden)
        ? `grant meshops pods/exec in ${primary}'s Istio namespace (deploy/rbac/proxies.yaml)`
        : `check that ${pilot} is running (/mesh status ${primary})`,
    });
  } else if (failedPilots.length > 0) {
    drafts.push({
      id: `${primary}/proxies/syncz`,
      cluster: primary,
      area: 'not-checked',
      severity: 'info',
      text: `${primary}: ${plural(failedPilots.length, `${pilot} pod`)} did not answer; their proxies are counted as not connected (${failedPilots.map((p) => p.pod).join(', ')})`,
    });
  }
  for (const c of clusters) drafts.push(...clusterDrafts(c, primary, pilot));
  const counts = countProxies(clusters, shownElsewhere);
  return {
    clusters,
    elsewhere: shownElsewhere,
    counts,
    drafts,
    summary: proxiesSummary(
      counts,
      noList ? (reading.failure ?? failedPilots.map((p) => p.reason).join('; ')) : undefined,
    ),
  };
}
