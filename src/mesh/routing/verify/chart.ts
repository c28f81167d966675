import type { ChartSpec, Marker, TimeSeries } from '../../../charts/index.ts';
import { toPlainText, userRef } from '../../../chat/mrkdwn.ts';
import type { UserNames } from '../../../chat/reply.ts';
import { serviceQueries } from './queries.ts';
import { type MetricsReader, type RangeSeries, UNKNOWN, unknownMeans } from './read.ts';
import type { Verification } from './watch.ts';

/** About this many points per line: enough for a smooth chart, cheap for Prometheus. */
const POINTS = 120;

/**
 * How the verification ended and who asked for and approved the change, in plain words: an image cannot
 * resolve a mention, so people are named by `userName`.
 */
const chartCaption = (v: Verification, userName: UserNames) =>
  toPlainText(
    `${v.outcome ?? 'verification window'} · requested by ${userRef(v.requester)}, approved by ${userRef(v.approver)}`,
    userName,
  );

/**
 * Request rate, 5xx share and p99 per version from a little before the change to `endMs`, read from
 * Prometheus with range queries, with the change (and the revert) marked.
 */
export async function verificationChart(
  v: Verification,
  reader: MetricsReader,
  endMs: number,
  userName: UserNames,
): Promise<ChartSpec> {
  const startMs = v.changedAt - Math.min(v.windowMs / 2, 10 * 60_000);
  const stepMs = Math.max(1000, Math.ceil((endMs - startMs) / POINTS / 1000) * 1000);
  const rangeMs = Math.max(v.intervalMs, 2 * stepMs, 3000);
  const many = v.services.length > 1;
  const rate: TimeSeries[] = [];
  const errors: TimeSeries[] = [];
  const p99: TimeSeries[] = [];
  for (const s of v.services) {
    const q = serviceQueries(v.profile, s.fqdn, rangeMs);
    const errorRate = q.rate.replace('istio_requests_total{', 'istio_requests_total{response_code=~"5..",');
    const [all, bad, lat] = await Promise.all([
      reader.queryRange(q.rate, startMs, endMs, stepMs),
      reader.queryRange(errorRate, startMs, endMs, stepMs),
      reader.queryRange(q.p99, startMs, endMs, stepMs),
    ]);
    const means = unknownMeans(
      all.map((x) => x.labels.destination_version ?? UNKNOWN),
      s.routed,
    );
    const name = (series: RangeSeries) => {
      const version = series.labels.destination_version ?? UNKNOWN;
      const label = version === UNKNOWN ? means : version;
      return many ? `${s.name} ${label}` : label;
    };
    for (const series of all) {
      rate.push({ name: name(series), points: series.points });
      const badPoints = new Map(
        bad.find((b) => b.labels.destination_version === series.labels.destination_version)?.points ?? [],
      );
      errors.push({
        name: name(series),
        points: series.points.map(([t, total]) => [
          t,
          total > 0 ? ((badPoints.get(t) ?? 0) / total) * 100 : null,
        ]),
      });
    }
    for (const series of lat)
      p99.push({
        name: name(series),
        points: series.points.map(([t, ms]) => [t, Number.isFinite(ms) ? ms : null]),
      });
  }
  const markers: Marker[] = [{ at: v.changedAt, label: `applied ${v.label}`, color: '#1264a3' }];
  if (v.revertedAt) markers.push({ at: v.revertedAt, label: 'reverted', color: '#d62728' });
  return {
    title: `${v.label} on ${v.cluster}: ${v.services.map((s) => s.name).join(', ')}`,
    subtitle: await chartCaption(v, userName),
    panels: [
      { title: 'Request rate', unit: 'req/s', series: rate },
      { title: '5xx share', unit: '%', series: errors },
      { title: 'p99 latency', unit: 'ms', series: p99 },
    ],
    markers,
  };
}
