import type { HistoryPort } from '../history.ts';
import { proxySyncRun } from '../istio/history.ts';
import type { ProxiesReport } from './report.ts';

/** Keeps a whole-mesh `/mesh proxies` run (one cluster's counts would not compare with the mesh's). */
export async function keepProxiesRun(history: HistoryPort, report: ProxiesReport): Promise<void> {
  if (report.cluster !== undefined || report.failure) return;
  const all = [...report.clusters.flatMap((c) => c.proxies), ...report.elsewhere];
  await history.record('proxies', Date.parse(report.checkedAt), proxySyncRun(report.counts, all));
}
