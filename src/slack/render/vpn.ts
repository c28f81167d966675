import type { KnownBlock } from '@slack/types';
import { dateRef, neutraliseFences, plural } from '../../chat/mrkdwn.ts';
import type { JobResult } from '../../chat/reply.ts';
import type { Finding, Severity } from '../../mesh/health.ts';
import type {
  MtuResult,
  PortResult,
  ProbeResult,
  ProbeStatus,
  RoutesState,
  TunnelSide,
  VpnReport,
} from '../../mesh/vpn/report.ts';
import { clipEscaped, context, header, LIMITS, linesToSections, section } from './blocks.ts';
import { VERDICT_ICON } from './parent.ts';

/** A VpnReport as one Slack thread reply: verdict, findings with causes, tunnels, the ping matrix, changes. */

const SEVERITY_ICON: Record<Severity, string> = {
  critical: ':red_circle:',
  warning: ':large_yellow_circle:',
  info: ':information_source:',
};

const iconOf = (f: Finding) => (f.area === 'not-checked' ? ':grey_question:' : SEVERITY_ICON[f.severity]);

const STATUS_ICON: Record<ProbeStatus, string> = {
  ok: ':large_green_circle:',
  slow: ':large_yellow_circle:',
  loss: ':large_yellow_circle:',
  lost: ':red_circle:',
  error: ':red_circle:',
  unparsed: ':grey_question:',
};

const ms = (n: number) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : String(Math.round(n)));
const seconds = (n: number) => `${(n / 1000).toFixed(1)} s`;

function probeLine(p: ProbeResult): string {
  const o = p.outcome;
  const what = `${STATUS_ICON[p.status]} ${p.target.label} \`${p.target.ip}\``;
  switch (o.kind) {
    case 'stats': {
      const rtt = o.rtt ? `, rtt ${ms(o.rtt.min)}/${ms(o.rtt.avg)}/${ms(o.rtt.max)} ms` : '';
      return `${what} — ${o.lossPercent}% loss (${o.received}/${o.transmitted})${rtt}`;
    }
    case 'unparsed':
      return `${what} — could not parse the output: ${o.reason}`;
    default:
      return `${what} — ${o.reason}`;
  }
}

function sideLine(side: TunnelSide, peer: string): string {
  if (!side.ok) return `${side.cluster}: ${side.problem}`;
  const t = side.peers.find((p) => p.peer === peer);
  if (!t) return `${side.cluster}: no view of ${peer}`;
  const words = { up: 'up', 'no-child': 'IKE up, no CHILD SA', connecting: 'CONNECTING', 'no-sa': 'no SA' }[
    t.state
  ];
  const esp = t.traffic
    ? `; ESP ${bytes(t.traffic.bytesIn)} in, ${bytes(t.traffic.bytesOut)} out during the probes`
    : '';
  return `${side.cluster}: ${words} (${t.detail}, via \`${side.tool}\`${esp})`;
}

const bytes = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)} kB` : `${n} B`);

function nodeLines(report: VpnReport): string[] {
  return report.nodeProbes.map(
    (p) =>
      `${probeLine(p)} — from ${p.from} node \`${p.probe.node ?? '?'}\` (\`${p.probe.namespace}/${p.probe.name}\`)`,
  );
}

function mtuLine(m: MtuResult): string {
  const where = `*${m.from} → ${m.to}* from \`${m.probe.namespace}/${m.probe.name}\`:`;
  const o = m.outcome;
  switch (o.kind) {
    case 'fits':
      return `${where} :large_green_circle: ${m.expected}-byte packets with DF set cross`;
    case 'black-hole':
      return `${where} :red_circle: ${m.expected}-byte DF packets vanish; the largest that crosses is ${o.largest} bytes (${o.lost} is lost)`;
    case 'unreachable':
      return `${where} :red_circle: not even a small DF ping crosses`;
    case 'no-df':
      return `${where} :information_source: not measured: ${o.reason}`;
    default:
      return `${where} :grey_question: not measured: ${o.reason}`;
  }
}

const PORT_WORDS: Record<PortResult['outcome']['kind'], string> = {
  open: ':large_green_circle: open',
  refused: ':large_yellow_circle: refused (nothing listens)',
  timeout: ':red_circle: timed out',
  unreachable: ':red_circle: unreachable',
  'udp-sent': ':white_circle: sent — UDP has no handshake, so only a refusal would show; not judged',
  'no-tool': ':grey_question: no nc in the container',
  'exec-failed': ':grey_question: could not run nc',
  unparsed: ':grey_question: answer not understood',
};

function portLines(report: VpnReport): string[] {
  const byFrom = new Map<string, PortResult[]>();
  for (const p of report.ports) byFrom.set(p.from, [...(byFrom.get(p.from) ?? []), p]);
  return [...byFrom.values()].flatMap((ports) => {
    const { from, probe, target } = ports[0]!;
    return [
      `*${from} → ${target.cluster}* from \`${probe.namespace}/${probe.name}\` (${probe.container ?? 'default container'}), \`nc -z\`:`,
      ...ports.map(
        (p) =>
          `${PORT_WORDS[p.outcome.kind]} — ${p.target.label} \`${p.target.ip}:${p.port.port}/${p.port.protocol.toLowerCase()}\``,
      ),
    ];
  });
}

function routesLine(r: RoutesState): string {
  if (!r.ok) return `${r.cluster}: ${r.problem}`;
  const icon = r.ready >= r.desired && r.nodesWithout.length === 0 ? ':large_green_circle:' : ':red_circle:';
  const missing =
    r.nodesWithout.length > 0 ? `; no ready pod on ${r.nodesWithout.map((n) => `\`${n}\``).join(', ')}` : '';
  return `${icon} ${r.cluster}: \`${r.daemonSet}\` ${r.ready} of ${r.desired} ready${missing}`;
}

function tunnelLines(report: VpnReport): string[] {
  const byCluster = new Map(report.tunnels.map((t) => [t.cluster, t]));
  return report.pairs.map(([a, b]) => {
    const sa = byCluster.get(a);
    const sb = byCluster.get(b);
    const parts = [sa ? sideLine(sa, b) : undefined, sb ? sideLine(sb, a) : undefined].filter(Boolean);
    return `*${a} ⇄ ${b}*: ${parts.join(' · ')}`;
  });
}

function matrixLines(report: VpnReport): string[] {
  const byDirection = new Map<string, ProbeResult[]>();
  for (const p of report.probes) {
    const key = `${p.from} → ${p.target.cluster}`;
    byDirection.set(key, [...(byDirection.get(key) ?? []), p]);
  }
  const lines: string[] = [];
  for (const [direction, probes] of byDirection) {
    const first = probes[0]!.probe;
    lines.push(`*${direction}* from \`${first.namespace}/${first.name}\``);
    lines.push(...probes.map(probeLine));
  }
  return lines;
}

function findingLines(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${iconOf(f)} ${f.text}${f.action ? `\n      _${f.action}_` : ''}`);
}

/** A pair's history key (`from>to/target`) as people read it: `iks → icp pilot`. */
export function pairName(key: string): string {
  const m = /^([^>]+)>([^/]+)\/(.+)$/.exec(key);
  return m ? `${m[1]} → ${m[2]} ${m[3]}` : key;
}

function comparisonLines(report: VpnReport): string[] {
  const c = report.comparison;
  if (!c) return report.scope.kind === 'matrix' ? ['First run: nothing earlier to compare with.'] : [];
  const rtt = (x: { key: string; beforeMs: number; afterMs: number; percent: number }) =>
    `${pairName(x.key)} ${ms(x.beforeMs)} → ${ms(x.afterMs)} ms (${x.percent > 0 ? '+' : ''}${Math.round(x.percent)}%)`;
  const lines = [
    ...(c.newlyFailing.length > 0
      ? [`:red_circle: newly failing: ${c.newlyFailing.map(pairName).join(', ')}`]
      : []),
    ...(c.recovered.length > 0
      ? [`:large_green_circle: recovered: ${c.recovered.map(pairName).join(', ')}`]
      : []),
    ...(c.rttUp.length > 0 ? [`:arrow_up: RTT up: ${c.rttUp.map(rtt).join(', ')}`] : []),
    ...(c.rttDown.length > 0 ? [`:arrow_down: RTT down: ${c.rttDown.map(rtt).join(', ')}`] : []),
  ];
  return [
    `*Since the run at ${dateRef(Date.parse(c.previousAt))}*${lines.length === 0 ? ': no pair changed' : ''}`,
    ...lines,
  ];
}

/** Raw output attached to "could not parse" findings, in a code block that cannot be broken out of. */
function rawBlocks(findings: readonly Finding[]): KnownBlock[] {
  return findings
    .filter((f) => f.raw !== undefined)
    .map((f) => {
      const fence = '```';
      const body = clipEscaped(neutraliseFences(f.raw!), LIMITS.sectionText - 200);
      return section(`Raw output for \`${f.id}\`:\n${fence}${body || '(empty)'}${fence}`);
    });
}

export function renderVpn(report: VpnReport): JobResult {
  const title =
    report.scope.kind === 'matrix'
      ? 'VPN: strongSwan tunnels and pod-IP pings'
      : `Ping ${report.scope.from} → ${report.scope.target}`;
  const s = report.settings;
  const blocks: KnownBlock[] = [
    header(title),
    section(`${VERDICT_ICON[report.verdict]} *${report.verdict}*: ${report.summary}`),
    ...linesToSections(findingLines(report.findings)),
    ...linesToSections(['*Tunnels*', ...tunnelLines(report)]),
    ...(report.probes.length > 0 ? linesToSections(['*Pings*', ...matrixLines(report)]) : []),
    ...(report.nodeProbes.length > 0
      ? linesToSections(['*Pings from app pods, one per node*', ...nodeLines(report)])
      : []),
    ...(report.mtu.length > 0
      ? linesToSections(['*Path MTU* (`ping -M do -s N`)', ...report.mtu.map(mtuLine)])
      : []),
    ...(report.ports.length > 0 ? linesToSections(['*Control-plane ports*', ...portLines(report)]) : []),
    ...(report.routes.length > 0
      ? linesToSections([
          '*Routes into the tunnel* (DaemonSet, desired vs ready)',
          ...report.routes.map(routesLine),
        ])
      : []),
    ...linesToSections(comparisonLines(report)),
    ...rawBlocks(report.findings),
    context(
      `${plural(report.probes.length, 'target')} · ping -c ${s.count} -W ${Math.max(1, Math.ceil(s.timeoutMs / 1000))} · up to ${s.concurrency} at once per cluster · loss above ${s.thresholds.lossPercent}% and RTT above ${s.thresholds.rttWarnMs} ms are flagged · took ${seconds(report.durationMs)}`,
    ),
  ];
  return {
    verdict: report.verdict,
    summary: report.summary,
    text: `${title}: ${report.verdict}: ${report.summary}`,
    blocks,
  };
}

/** A `/mesh ping` target that is not allowed: said plainly, nothing was executed. */
export function renderRefusal(reason: string): JobResult {
  const text = `:no_entry: Not pinged: ${reason}`;
  return { verdict: 'failed', summary: `refused: ${reason}`, text, blocks: [section(text)] };
}
