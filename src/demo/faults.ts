import type { FaultAction, FaultPanel } from '../console/server.ts';
import type { SimMesh } from '../sim/index.ts';

/** How much round trip "add latency" puts on the tunnel: above vpn.thresholds.rttWarnMs (100 ms by default). */
export const ADDED_RTT_MS = 180;
/** A crash-looping container fails again this often, so its restart count keeps growing while you watch. */
const CRASH_EVERY_MS = 10_000;

/**
 * The fault panel of the demo: the seed's failure cases, each one call into the simulation's fault API, each
 * reported in a line that says what changed so the visitor knows what meshops should now find.
 */
export function simFaultPanel(sim: SimMesh): FaultPanel {
  const specs = sim.scenario.clusters;
  const primary = specs.find((c) => c.role === 'primary')?.name;
  const remote = specs.find((c) => c.role === 'remote')?.name;
  if (!primary || !remote) throw new Error('the demo needs a scenario with a primary and a remote cluster');
  const f = sim.faults;
  const pilot = { labelSelector: 'istio=pilot' };
  const telemetry = { labelSelector: 'istio-mixer-type=telemetry' };

  const runs: Record<string, FaultAction & { run(): Promise<string> }> = {
    'restart-pilot': {
      id: 'restart-pilot',
      label: 'Restart pilot (drift)',
      hint: `Deletes istio-pilot on ${primary}: its replacement gets a new IP, while ${remote} keeps the old one`,
      async run() {
        const changes = await f.restartPod(primary, 'istio-system', pilot);
        const lines = changes.map(
          (c) =>
            `${c.before.name} (${c.before.ip ?? 'no IP'}) → ${c.after?.name ?? 'not replaced'} (${c.after?.ip ?? 'no IP'})`,
        );
        return `${primary}: pilot restarted, ${lines.join('; ')}; ${remote} still points at the old address`;
      },
    },
    'crash-telemetry': {
      id: 'crash-telemetry',
      label: 'Crash-loop telemetry',
      hint: `istio-telemetry's mixer container on ${primary} keeps failing: CrashLoopBackOff`,
      async run() {
        f.crashLoop(primary, 'istio-system', telemetry, { container: 'mixer', everyMs: CRASH_EVERY_MS });
        return `${primary}: istio-telemetry's mixer is crash-looping (CrashLoopBackOff)`;
      },
    },
    'tunnel-down': {
      id: 'tunnel-down',
      label: 'VPN tunnel down',
      hint: `No IKE SA between ${primary} and ${remote}: nothing crosses the VPN`,
      async run() {
        f.setTunnel(primary, remote, 'down');
        return `VPN ${primary} ↔ ${remote}: tunnel down on both sides`;
      },
    },
    'tunnel-half-up': {
      id: 'tunnel-half-up',
      label: 'VPN tunnel half-up',
      hint: 'IKE SA established but no CHILD SA: strongSwan looks connected, yet no packet passes',
      async run() {
        f.setTunnel(primary, remote, 'half-up');
        return `VPN ${primary} ↔ ${remote}: IKE SA up, no CHILD SA installed`;
      },
    },
    'remote-unreachable': {
      id: 'remote-unreachable',
      label: `${remote.toUpperCase()} unreachable`,
      hint: `${remote}'s API server refuses connections`,
      async run() {
        await f.refuseConnections(remote);
        return `${remote}: API server refuses connections`;
      },
    },
    latency: {
      id: 'latency',
      label: `Add VPN latency (${ADDED_RTT_MS} ms)`,
      hint: `Round trip through the tunnel becomes ${ADDED_RTT_MS} ms in both directions`,
      async run() {
        f.setLink(primary, remote, { rttMs: ADDED_RTT_MS });
        f.setLink(remote, primary, { rttMs: ADDED_RTT_MS });
        return `VPN ${primary} ↔ ${remote}: round trip now ${ADDED_RTT_MS} ms`;
      },
    },
    'break-reviews-v3': {
      id: 'break-reviews-v3',
      label: 'Break reviews-v3 (503 to 30 %)',
      hint: `reviews v3 on ${remote} answers 503 to 30 % of requests: apply reviews-v3 and watch meshops revert it`,
      async run() {
        sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
        return `${remote}: reviews v3 answers 503 to 30 % of requests`;
      },
    },
    'slow-reviews-v3': {
      id: 'slow-reviews-v3',
      label: 'Slow reviews-v3 (+400 ms)',
      hint: `reviews v3 on ${remote} takes 400 ms longer to answer`,
      async run() {
        sim.setTraffic('reviews', 'v3', { addedLatencyMs: 400 });
        return `${remote}: reviews v3 answers 400 ms slower`;
      },
    },
    reset: {
      id: 'reset',
      label: 'Reset to healthy',
      hint: 'Back to the scenario as loaded: every fault cleared, routes as at start',
      async run() {
        await f.reset();
        return 'Simulation reset: every fault cleared';
      },
    },
  };

  return {
    actions: Object.values(runs).map(({ id, label, hint }) => ({ id, label, hint })),
    run: (id) => {
      const action = runs[id];
      if (!action) return Promise.reject(new Error(`unknown fault "${id}"`));
      return action.run();
    },
  };
}
