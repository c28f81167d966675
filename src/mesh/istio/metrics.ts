import { metrics, VERDICT_LEVEL } from '../../observability/metrics.ts';
import type { StatusReport } from './report.ts';

/**
 * The checks' results as metrics, recorded where a check finishes (commands and scheduled posts alike), so
 * the dashboard and alerts show the last thing meshops measured.
 */
export function recordStatus(report: StatusReport): void {
  for (const cluster of report.clusters) {
    metrics.healthVerdict.set({ cluster: cluster.name }, VERDICT_LEVEL[cluster.health]);
    if (cluster.role === 'remote' && cluster.drift)
      metrics.driftFindings.set({ cluster: cluster.name }, cluster.drift.length);
  }
}
