import type { KnownBlock } from '@slack/types';
import { dateRef, MAX_LIST_LINES, plural } from '../../chat/mrkdwn.ts';
import type { JobResult } from '../../chat/reply.ts';
import type { Finding } from '../../mesh/health.ts';
import { podLine } from '../../mesh/istio/findings.ts';
import type { ClusterReport, ComponentReport, StatusReport } from '../../mesh/istio/report.ts';
import { explainedCounts } from '../../mesh/istio/verdict.ts';
import type { StatusChanges } from '../../mesh/timeline/changes.ts';
import { clip, context, divider, header, LIMITS, linesToSections, section } from './blocks.ts';
import { VERDICT_ICON } from './parent.ts';
import { pairName } from './vpn.ts';

/**
 * `/mesh status` in Block Kit. The first reply holds the verdict, what matters most and one line per
 * cluster; the detail follows (the worker moves blocks past 50 into further replies). Lists longer than
 * MAX_LIST_LINES end with a line saying how many were left out and where to see them.
 */

const COMPONENT_ICON: Record<ComponentReport['health'], string> = {
  ok: ':white_check_mark:',
  degraded: ':warning:',
  down: ':x:',
  missing: ':x:',
  unknown: ':grey_question:',
};

function capped(lines: readonly string[], rest: (n: number) => string): string[] {
  if (lines.length <= MAX_LIST_LINES) return [...lines];
  return [...lines.slice(0, MAX_LIST_LINES), rest(lines.length - MAX_LIST_LINES)];
}

function componentsSummary(c: ClusterReport): string {
  if (c.components.length === 0) return 'no control-plane pods expected';
  const ok = c.components.filter((x) => x.health === 'ok').length;
  return `${ok}/${plural(c.components.length, 'component')} ready`;
}

function clusterLine(c: ClusterReport): string {
  const title = `${VERDICT_ICON[c.health]} *${c.name}* (${c.role} · ${c.profile} · ${c.namespace})`;
  if (!c.reachable) return `${title} — not reachable: ${c.failure?.reason ?? 'no answer'}`;
  const parts = [componentsSummary(c)];
  const dp = c.dataPlane;
  if (dp) {
    parts.push(
      dp.namespaces.length === 0
        ? 'no namespace labelled for injection'
        : `${dp.withReadySidecar}/${plural(dp.pods, 'pod')} with a ready sidecar in ${plural(dp.namespaces.length, 'namespace')}`,
    );
  }
  if (c.remoteSecrets) {
    const missing = c.remoteSecrets.filter((s) => !s.secret).map((s) => s.remote);
    parts.push(
      c.remoteSecrets.length === 0
        ? 'no remotes configured'
        : missing.length === 0
          ? `remote secrets for ${c.remoteSecrets.map((s) => s.remote).join(', ')}`
          : `no remote secret for ${missing.join(', ')}`,
    );
  }
  if (c.versions) {
    const cp = [...new Set(c.versions.controlPlane.flatMap((x) => x.tags))];
    const px = c.versions.proxies.map((p) => `${p.tag} ×${p.pods}`);
    if (cp.length > 0 || px.length > 0)
      parts.push(
        `Istio ${[
          cp.length > 0 ? `control plane ${cp.join('/')}` : '',
          px.length > 0 ? `sidecars ${px.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join(', ')}`,
      );
  }
  if (c.drift)
    parts.push(
      c.drift.length === 0
        ? 'no address drift'
        : `${plural(c.drift.length, 'drifted address', 'drifted addresses')}`,
    );
  return `${title} — ${parts.join(' · ')}`;
}

function findingLine(f: Finding, explains: Map<string, number>, byId: Map<string, Finding>): string {
  const n = explains.get(f.id);
  const cause = f.causedBy ? byId.get(f.causedBy) : undefined;
  return [
    `• ${f.text}`,
    n ? ` _(explains ${plural(n, 'other finding')})_` : '',
    cause ? `\n    ↳ _because ${cause.text}_` : '',
    f.action ? `\n    → ${f.action}` : '',
  ].join('');
}

function componentLines(c: ClusterReport, now: number): string[] {
  return c.components.map((x) => {
    const icon = x.optional && x.health !== 'ok' ? ':white_circle:' : COMPONENT_ICON[x.health];
    const name = `${icon} \`${x.name}\``;
    if (x.health === 'unknown') return `${name} not checked: ${x.reason ?? 'no answer'}`;
    if (x.health === 'missing')
      return `${name} missing: no pod matches \`${x.selector}\`${x.optional ? ' (optional)' : ''}`;
    const pods = x.pods.map((p) => `${podLine(p, now)} · ${p.age}`);
    return `${name} ${x.ready}/${x.total} ready — ${pods.join('; ')}`;
  });
}

function detailBlocks(c: ClusterReport, now: number): KnownBlock[] {
  if (!c.reachable) return [];
  const blocks: KnownBlock[] = [section(`*${c.name}* (${c.role}) in detail`)];
  if (c.components.length > 0) blocks.push(...linesToSections(componentLines(c, now)));
  const dp = c.dataPlane;
  if (dp && dp.problems.length > 0) {
    const lines = dp.problems.map(
      (p) =>
        `${p.problem === 'missing' ? 'no sidecar' : 'sidecar not ready'}: \`${p.namespace}/${p.pod}\` ${p.ready} ${p.status}${p.restarts ? `, ${plural(p.restarts, 'restart')}` : ''}`,
    );
    blocks.push(
      section(
        `*Data plane on ${c.name}*: ${plural(dp.problems.length, 'pod')} of ${dp.pods} without a ready sidecar (in ${dp.namespaces.map((n) => `${n.name} [${n.injection}]`).join(', ')})${dp.optedOut ? `; ${dp.optedOut} opted out` : ''}${dp.notInjected ? `; ${dp.notInjected} never injected (host network or VPN gateway)` : ''}`,
      ),
      ...linesToSections(
        capped(
          lines,
          (n) => `…and ${plural(n, 'more pod')}: \`kubectl get pods -n <namespace>\` on ${c.name} lists them`,
        ),
      ),
    );
  }
  if (c.drift && c.drift.length > 0) {
    const lines = c.drift.map(
      (d) =>
        `\`${d.object}\` ${d.field} = \`${d.configured}\` → ${d.component} is at ${d.live.length > 0 ? d.live.join(', ') : 'no ready address'}`,
    );
    blocks.push(
      section(`*Address drift on ${c.name}* (what the repair will change)`),
      ...linesToSections(
        capped(lines, (n) => `…and ${plural(n, 'more drifted address', 'more drifted addresses')}`),
      ),
    );
  }
  return blocks;
}

/** Pilot's view in one line: the detail is `/mesh proxies`. */
function proxiesLine(p: NonNullable<StatusReport['proxies']>): string {
  const c = p.counts;
  const icon =
    c.stale > 0 || c.unknown > 0 ? ':warning:' : c.total > 0 ? ':white_check_mark:' : ':grey_question:';
  return `${icon} *proxies* — ${p.summary} (detail: /mesh proxies)`;
}

const MAX_NAMED = 3;
function named(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_NAMED).join(', ');
  return ids.length > MAX_NAMED ? `${shown} and ${ids.length - MAX_NAMED} more` : shown;
}

/** What changed since the previous run, a line per kind of change; none when nothing did. */
function changeLines(c: StatusChanges): string[] {
  const lines: string[] = [];
  if (c.verdict) lines.push(`${VERDICT_ICON[c.verdict.to]} verdict ${c.verdict.from} → ${c.verdict.to}`);
  for (const r of c.restarts) {
    const recent = r.sincePrevious === r.inWindow ? '' : ` (${r.sincePrevious} since the previous check)`;
    lines.push(
      `:arrows_counterclockwise: \`${r.component}\` on ${r.cluster} restarted ${plural(r.inWindow, 'time')} since ${dateRef(c.windowFrom)}${recent}`,
    );
  }
  for (const x of c.components) {
    const became = x.to === 'ok' ? 'became ready' : x.from === 'ok' ? 'became unready' : 'changed';
    lines.push(`${COMPONENT_ICON[x.to]} \`${x.component}\` on ${x.cluster} ${became} (${x.from} → ${x.to})`);
  }
  const p = c.proxies;
  if (p && p.newlyStale.length > 0)
    lines.push(
      `:warning: ${plural(p.newlyStale.length, 'proxy', 'proxies')} went STALE: ${named(p.newlyStale)}`,
    );
  if (p && p.stale.now < p.stale.before)
    lines.push(`:white_check_mark: STALE proxies ${p.stale.before} → ${p.stale.now}`);
  if (p && p.unknown.now !== p.unknown.before)
    lines.push(
      `${p.unknown.now > p.unknown.before ? ':warning:' : ':white_check_mark:'} sidecars not connected to pilot ${p.unknown.before} → ${p.unknown.now}`,
    );
  if (c.vpn && c.vpn.newlyFailing.length > 0)
    lines.push(
      `:x: VPN ${c.vpn.newlyFailing.length === 1 ? 'pair' : 'pairs'} started failing (/mesh vpn at ${dateRef(c.vpn.at)}): ${named(c.vpn.newlyFailing.map(pairName))}`,
    );
  if (c.vpn && c.vpn.recovered.length > 0)
    lines.push(
      `:white_check_mark: VPN ${c.vpn.recovered.length === 1 ? 'pair' : 'pairs'} recovered: ${named(c.vpn.recovered.map(pairName))}`,
    );
  return lines;
}

function changesBlocks(c: StatusChanges): KnownBlock[] {
  const lines = changeLines(c);
  if (lines.length === 0)
    return [context(`Nothing changed since the previous check at ${dateRef(c.previousAt)}.`)];
  return linesToSections(
    capped(lines, (n) => `…and ${plural(n, 'more change')}`),
    `*Since the previous check* (${dateRef(c.previousAt)})\n`,
  );
}

/** `changes` is absent on the first run kept (or when history could not be read). */
export function renderStatus(report: StatusReport, changes?: StatusChanges): JobResult {
  const now = Date.parse(report.checkedAt);
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const explains = explainedCounts(report.findings);
  const top = report.top.map((id) => byId.get(id)!).filter(Boolean);
  const rest = report.findings.filter((f) => !report.top.includes(f.id));
  const title = report.cluster ? `Status of ${report.cluster}` : 'Mesh status';
  const { summary } = report;

  const blocks: KnownBlock[] = [header(`${VERDICT_ICON[report.health]} ${title}: ${report.health}`)];
  if (top.length > 0) {
    blocks.push(section(`*What matters most*\n${top.map((f) => findingLine(f, explains, byId)).join('\n')}`));
  } else {
    blocks.push(section(`Nothing needs attention: ${summary}.`));
  }
  blocks.push(
    ...linesToSections([
      ...report.clusters.map(clusterLine),
      ...(report.proxies ? [proxiesLine(report.proxies)] : []),
    ]),
    ...(changes ? changesBlocks(changes) : []),
  );
  if (rest.length > 0) {
    blocks.push(
      section(`*${rest.length === report.findings.length ? 'Findings' : 'Other findings'} (${rest.length})*`),
      ...linesToSections(
        capped(
          rest.map((f) => findingLine(f, explains, byId)),
          (n) =>
            `…and ${plural(n, 'more finding')} not listed here; \`/mesh status <cluster>\` shows one cluster at a time`,
        ),
      ),
    );
  }
  blocks.push(
    context(
      `checked ${report.checkedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} in ${(report.ms / 1000).toFixed(1)} s · each cluster asked in parallel`,
    ),
    divider(),
    ...report.clusters.flatMap((c) => detailBlocks(c, now)),
  );
  const lead = top[0]?.text ?? summary;
  return {
    verdict: report.health,
    summary,
    text: clip(`${title}: ${report.health} — ${lead}`, LIMITS.messageText),
    blocks,
  };
}
