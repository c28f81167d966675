import type { JobResult } from '../../chat/reply.ts';
import { context, header, linesToSections } from './blocks.ts';
import { VERDICT_ICON } from './parent.ts';

export type ClusterProbe =
  | { name: string; role: 'primary' | 'remote'; ok: true; version: string; ms: number }
  | { name: string; role: 'primary' | 'remote'; ok: false; reason: string; ms: number };

export function renderClusters(probes: readonly ClusterProbe[]): JobResult {
  const up = probes.filter((p) => p.ok).length;
  const verdict = up === probes.length ? 'healthy' : up === 0 ? 'down' : 'degraded';
  const lines = probes.map((p) =>
    p.ok
      ? `${VERDICT_ICON.healthy} *${p.name}* (${p.role}) — API server answers, Kubernetes ${p.version} (${Math.round(p.ms)} ms)`
      : `${VERDICT_ICON.down} *${p.name}* (${p.role}) — not reachable: ${p.reason}`,
  );
  const summary =
    up === probes.length
      ? probes.length === 1
        ? `${probes[0]!.name} answers`
        : `all ${probes.length} clusters answer`
      : `${probes.length - up} of ${probes.length} clusters do not answer: ${probes
          .filter((p) => !p.ok)
          .map((p) => p.name)
          .join(', ')}`;
  return {
    verdict,
    summary,
    text: `Clusters: ${summary}`,
    blocks: [
      header('Clusters'),
      ...linesToSections(lines),
      context('Each API server was asked for GET /version in parallel.'),
    ],
  };
}
