import type { ChartSpec, TimeSeries } from '../../charts/index.ts';
import { DAY_MS, type HistoryPort, parseRuns } from '../history.ts';
import { proxySyncRunSchema, statusRunSchema } from '../istio/history.ts';
import { vpnRunSchema } from '../vpn/history.ts';

/**
 * The last 24 h of the runs history keeps, as the daily digest's chart: VPN loss and RTT per direction,
 * components ready per cluster, and the share of proxies in sync (from status and proxy runs alike).
 */

type Point = [number, number | null];

const mean = (xs: readonly number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** One series per name, in the order names first appear. */
function seriesOf(points: readonly { name: string; at: number; value: number | null }[]): TimeSeries[] {
  const byName = new Map<string, Point[]>();
  for (const p of points) byName.set(p.name, [...(byName.get(p.name) ?? []), [p.at, p.value]]);
  return [...byName].map(([name, pts]) => ({ name, points: pts }));
}

export interface DayChart {
  spec: ChartSpec;
  /** What the chart shows in words, for screen readers. */
  altText: string;
}

export async function dayChart(history: HistoryPort, endMs: number): Promise<DayChart | undefined> {
  const from = endMs - DAY_MS;
  const [status, vpn, proxies] = await Promise.all([
    history.since('status', from).then((r) => parseRuns(statusRunSchema, r)),
    history.since('vpn', from).then((r) => parseRuns(vpnRunSchema, r)),
    history.since('proxies', from).then((r) => parseRuns(proxySyncRunSchema, r)),
  ]);
  if (status.length + vpn.length + proxies.length === 0) return undefined;

  const loss: { name: string; at: number; value: number | null }[] = [];
  const rtt: typeof loss = [];
  for (const run of vpn) {
    const directions = new Map<string, { loss: number[]; rtt: number[] }>();
    for (const [key, pair] of Object.entries(run.pairs)) {
      // `from>to/label`: one line per direction of a cluster pair, its worst loss and its mean RTT.
      const direction = key.split('/')[0]!.replace('>', ' → ');
      const d = directions.get(direction) ?? { loss: [], rtt: [] };
      if (pair.lossPercent !== undefined) d.loss.push(pair.lossPercent);
      if (pair.avgMs !== undefined) d.rtt.push(pair.avgMs);
      directions.set(direction, d);
    }
    for (const [name, d] of directions) {
      loss.push({ name, at: run.at, value: d.loss.length > 0 ? Math.max(...d.loss) : null });
      rtt.push({ name, at: run.at, value: mean(d.rtt) });
    }
  }
  const ready = status.flatMap((run) =>
    run.clusters.map((c) => ({
      name: c.name,
      at: run.at,
      value: c.reachable ? c.components.filter((x) => x.health === 'ok').length : null,
    })),
  );
  const sync = [
    ...status.flatMap((r) => (r.proxies ? [{ at: r.at, p: r.proxies }] : [])),
    ...proxies.map((p) => ({ at: p.at, p })),
  ]
    .sort((a, b) => a.at - b.at)
    .map(({ at, p }) => ({ name: 'in sync', at, value: p.total > 0 ? (p.synced / p.total) * 100 : null }));

  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  const counts = `${status.length} status, ${vpn.length} VPN and ${proxies.length} proxy runs`;
  return {
    spec: {
      title: 'Mesh health, last 24 h',
      subtitle: `${counts} · ${clock(from)}–${clock(endMs)} UTC`,
      panels: [
        { title: 'VPN loss, worst probe', unit: '%', series: seriesOf(loss) },
        { title: 'VPN RTT', unit: 'ms', series: seriesOf(rtt) },
        { title: 'Control-plane components ready', unit: 'components', series: seriesOf(ready) },
        { title: 'Proxies in sync', unit: '%', series: seriesOf(sync) },
      ],
    },
    altText: `Chart of the last 24 h from ${counts}: VPN loss (worst probe) and average RTT per direction, control-plane components ready per cluster, and the share of proxies in sync with pilot.`,
  };
}
