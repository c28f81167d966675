import { plural } from '../../chat/mrkdwn.ts';
import type { JobResult } from '../../chat/reply.ts';
import { URGENT_DAYS, WARN_DAYS } from '../../mesh/certs/check.ts';
import type { HeldCert } from '../../mesh/certs/envoy-certs.ts';
import type { CertsReport, ClusterCerts } from '../../mesh/certs/report.ts';
import type { Finding } from '../../mesh/health.ts';
import { context, header, linesToSections } from './blocks.ts';
import { VERDICT_ICON } from './parent.ts';

const left = (c: HeldCert) =>
  c.days < 0
    ? `*expired ${-c.days} d ago*`
    : `${c.days} d left${c.expires ? ` (${c.expires.slice(0, 10)})` : ''}`;

function clusterLines(c: ClusterCerts): string[] {
  const title = `*${c.name}* (${c.role}) — ${c.readings.length} of ${c.sidecars} proxies read`;
  if (c.failure) return [title, `_not read: ${c.failure}_`];
  const lines = [title];
  for (const root of c.roots) lines.push(`• root \`${root.serial}\` — ${left(root)}`);
  if (c.worstWorkload) {
    const w = c.worstWorkload;
    lines.push(`• first workload certificate to expire: \`${w.pod}.${w.namespace}\` — ${left(w.cert)}`);
  }
  const failed = c.readings.filter((r) => !r.ok);
  if (failed.length > 0)
    lines.push(
      `• ${failed.length} not read: ${failed
        .map((r) => r.pod)
        .slice(0, 5)
        .join(', ')}`,
    );
  return lines;
}

const findingLine = (f: Finding) => `• ${f.text}${f.action ? `\n    → ${f.action}` : ''}`;

export function renderCerts(r: CertsReport): JobResult {
  const scope = r.cluster ? ` on ${r.cluster}` : '';
  return {
    verdict: r.health,
    summary: `${r.summary}${scope}`,
    text: `Certificates${scope}: ${r.summary}`,
    blocks: [
      header(`Certificates${scope}`),
      ...linesToSections([
        `${VERDICT_ICON[r.health]} *Certificates${scope}* — ${r.summary}`,
        ...r.findings.filter((f) => f.severity !== 'info' && !f.causedBy).map(findingLine),
      ]),
      ...r.clusters.flatMap((c) => linesToSections(clusterLines(c))),
      context(
        `At most ${plural(r.cap, 'proxy', 'proxies')} sampled per cluster (one per workload first). Read from each proxy's Envoy (\`pilot-agent request GET certs\` in istio-proxy) or, on Istio 1.0 without TLS contexts, its mounted root-cert.pem and cert-chain.pem — never a private key or a Secret. Findings at ${WARN_DAYS} and ${URGENT_DAYS} days. ${Math.round(r.ms)} ms.`,
      ),
    ],
  };
}
