import type { StatusReport } from '../mesh/istio/report.ts';
import type { VpnReport } from '../mesh/vpn/report.ts';
import { metrics, VERDICT_LEVEL } from './metrics.ts';

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
