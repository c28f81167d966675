import type { JobResult } from '../../chat/reply.ts';
import type { Finding } from '../../mesh/health.ts';
import type { ClusterProxies } from '../../mesh/istio/report.ts';
import { type ProxySync, proxyState, XDS_TYPES } from '../../mesh/istio/syncz.ts';
import type { ProxiesReport } from '../../mesh/proxies/report.ts';
import { context, header, linesToSections } from './blocks.ts';
import { VERDICT_ICON } from './parent.ts';

/** Rows shown per cluster; the rest are counted, never silently dropped. */
export const MAX_PROXY_ROWS = 60;

const STATE_ICON = { synced: ':white_check_mark:', stale: ':warning:', 'not-sent': ':hourglass:' } as const;

function row(p: ProxySync): string {
  const cols = XDS_TYPES.map((t) => {
    const s = p.status[t];
    return t === 'eds' && s !== 'NOT SENT' ? `${s} (${p.endpointPercent}%)` : s;
  });
  const version = p.version ? ` · ${p.version}` : '';
  return `${STATE_ICON[proxyState(p)]} \`${p.id}\` CDS ${cols[0]} · LDS ${cols[1]} · EDS ${cols[2]} · RDS ${cols[3]}${version}`;
}

/** Worst first: STALE, then waiting, then in sync; by id within each. */
const ORDER = { stale: 0, 'not-sent': 1, synced: 2 } as const;
const sorted = (ps: readonly ProxySync[]) =>
  [...ps].sort((a, b) => ORDER[proxyState(a)] - ORDER[proxyState(b)] || a.id.localeCompare(b.id));

function clusterLines(c: ClusterProxies): string[] {
  const synced = c.proxies.filter((p) => proxyState(p) === 'synced').length;
  const title = `*${c.name}* (${c.role}) — ${synced}/${c.proxies.length} in sync${
    c.unknown.length > 0 ? `, ${c.unknown.length} not connected to pilot` : ''
  }`;
  const rows = [
    ...c.unknown.map((u) => `:x: \`${u.pod}.${u.namespace}\` not connected to pilot`),
    ...sorted(c.proxies).map(row),
  ];
  const shown = rows.slice(0, MAX_PROXY_ROWS);
  if (rows.length > shown.length)
    shown.push(`_…and ${rows.length - shown.length} more (/mesh proxies ${c.name})_`);
  if (c.failure) shown.unshift(`_pods not listed: ${c.failure}_`);
  return [title, ...shown];
}

const findingLine = (f: Finding) => `• ${f.text}${f.action ? `\n    → ${f.action}` : ''}`;

export function renderProxies(r: ProxiesReport): JobResult {
  const scope = r.cluster ? ` on ${r.cluster}` : '';
  const summary = `${r.summary}${scope}`;
  const pilots = r.pilots.map((p) => (p.ok ? p.pod : `${p.pod} (no answer)`)).join(', ') || 'none';
  const lines = [
    `${VERDICT_ICON[r.health]} *Proxies${scope}* — ${r.summary}`,
    ...r.findings.filter((f) => !f.causedBy).map(findingLine),
  ];
  const clusterBlocks = r.clusters.flatMap((c) => linesToSections(clusterLines(c)));
  const elsewhere =
    r.elsewhere.length > 0
      ? linesToSections([
          `*Not in a configured cluster* (${r.elsewhere.length})`,
          ...sorted(r.elsewhere).slice(0, MAX_PROXY_ROWS).map(row),
        ])
      : [];
  return {
    verdict: r.health,
    summary,
    text: `Proxies: ${summary}`,
    blocks: [
      header(`Proxies${scope}`),
      ...linesToSections(lines),
      ...clusterBlocks,
      ...elsewhere,
      context(
        `From /debug/syncz of ${pilots} on ${r.primary} (exec \`pilot-discovery request GET /debug/syncz\`), compared with the running sidecars of injected namespaces. SYNCED: the last push was acknowledged; STALE: it was not; NOT SENT: nothing pushed yet. ${Math.round(r.ms)} ms.`,
      ),
    ],
  };
}
