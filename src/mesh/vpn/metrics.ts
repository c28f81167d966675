import { metrics } from '../../observability/metrics.ts';
import type { VpnReport } from './report.ts';

/**
 * The checks' results as metrics, recorded where a check finishes (commands and scheduled posts alike), so
 * the dashboard and alerts show the last thing meshops measured.
 */
export function recordVpn(report: VpnReport): void {
  for (const probe of report.probes) {
    const labels = { from: probe.from, to: probe.target.cluster, target: probe.target.label };
    const outcome = probe.outcome;
    if (outcome.kind === 'stats') {
      metrics.vpnLoss.set(labels, outcome.lossPercent / 100);
      if (outcome.rtt) metrics.vpnRtt.set(labels, outcome.rtt.avg / 1000);
    } else if (outcome.kind === 'error' || outcome.kind === 'exec-failed') {
      // Nothing came back: as lost as a packet can be.
      metrics.vpnLoss.set(labels, 1);
    }
  }
}
