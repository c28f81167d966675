import type { FaultAction, FaultPanel } from '../console/server.ts';
import type { SimMesh } from '../sim/index.ts';

/** How much round trip "add latency" puts on the tunnel: above vpn.thresholds.rttWarnMs (100 ms by default). */
export const ADDED_RTT_MS = 180;
/** The path MTU of the demo's black hole: below the 1400 bytes meshops expects (vpn.mtu). */
export const BLACK_HOLE_MTU = 1300;

/** The node of the remote's first app pod (reviews-v3 in the seed): where losing the routes shows. */
function appNode(sim: SimMesh, cluster: string): string {
  const pods = sim.clusters.get(cluster)!.state.list('pods', 'default') as {
    metadata: { labels?: Record<string, string> };
    spec?: { nodeName?: string; hostNetwork?: boolean };
  }[];
  const app = pods.find((p) => p.metadata.labels?.app === 'reviews' && !p.spec?.hostNetwork) ?? pods[0];
  const node = app?.spec?.nodeName;
  if (!node) throw new Error(`${cluster} has no app pod in default`);
  return node;
}

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
    'injector-down': {
      id: 'injector-down',
      label: 'Injector down, details stuck',
      hint: `istio-sidecar-injector scaled to 0 on ${primary}, then details-v1 restarted: the fail-closed webhook refuses its new pod`,
      async run() {
        await f.scaleDeployment(primary, 'istio-system', 'istio-sidecar-injector', 0);
        await f.restartPod(primary, 'default', { labelSelector: 'app=details' });
        return `${primary}: no sidecar injector; details-v1 stays at 0 available, no pods created (/mesh status)`;
      },
    },
    'root-expiring': {
      id: 'root-expiring',
      label: 'Root expires in 5 days',
      hint: "Citadel's self-signed root (one year by default in Istio 1.0) is 5 days from expiry on every cluster",
      async run() {
        // Envoy and /mesh certs count whole days left (4.99 days is "4 days"): half a day of margin keeps the
        // label true while the demo is explored.
        for (const c of specs) sim.controlPlane.setCerts(c.name, { rootExpiresInDays: 5.5 });
        return 'Mesh root certificate now expires in 5 days (/mesh certs)';
      },
    },
    'root-mismatch': {
      id: 'root-mismatch',
      label: `${remote.toUpperCase()} on its own root`,
      hint: `${remote}'s Citadel signs with its own root instead of the shared cacerts: cross-cluster mTLS fails`,
      async run() {
        sim.controlPlane.setCerts(remote, { trustGroup: `${remote}-own` });
        return `${remote}: proxies now chain to a root of their own (/mesh certs)`;
      },
    },
    'proxy-skew': {
      id: 'proxy-skew',
      label: `${remote.toUpperCase()} sidecar from Istio 1.2`,
      hint: `reviews-v3 on ${remote} runs proxyv2:1.2.5 against pilot 1.0.2 (kube-inject from another release)`,
      async run() {
        f.setProxyImage(remote, 'default', { labelSelector: 'app=reviews' }, 'docker.io/istio/proxyv2:1.2.5');
        return `${remote}: reviews-v3's sidecar now runs proxyv2:1.2.5 (/mesh status)`;
      },
    },
    'routes-down': {
      id: 'routes-down',
      label: 'Routes down on a node',
      hint: `The strongSwan routes DaemonSet's pod crash-loops on the ${remote} node that runs reviews-v3: pods there lose their route into the tunnel, the gateway's pings still pass`,
      async run() {
        const node = appNode(sim, remote);
        const pod = f.stopRoutes(remote, node);
        return `${remote}: ${pod} on node ${node} is crash-looping; that node's pods have no route to ${primary}`;
      },
    },
    'mtu-black-hole': {
      id: 'mtu-black-hole',
      label: `MTU black hole (${BLACK_HOLE_MTU})`,
      hint: `Packets above ${BLACK_HOLE_MTU} bytes with DF set vanish between ${primary} and ${remote}, with no ICMP error: small pings pass, large transfers hang`,
      async run() {
        f.setPathMtu(primary, remote, BLACK_HOLE_MTU);
        f.setPathMtu(remote, primary, BLACK_HOLE_MTU);
        return `VPN ${primary} ↔ ${remote}: DF packets above ${BLACK_HOLE_MTU} bytes are dropped silently`;
      },
    },
    'one-way-esp': {
      id: 'one-way-esp',
      label: 'One-way ESP',
      hint: `ESP (UDP 4500) from ${primary} never reaches ${remote}; both CHILD SAs stay INSTALLED and ${primary}'s bytes_o keep growing`,
      async run() {
        f.setEspBlocked(primary, remote);
        return `VPN ${primary} → ${remote}: ESP dropped on the way; ${remote} receives nothing, both SAs INSTALLED`;
      },
    },
    swanctl: {
      id: 'swanctl',
      label: 'strongSwan 6 (swanctl only)',
      hint: `Both strongSwan pods run a strongSwan 6 image driven by swanctl.conf: no \`ipsec\` command, the SAs and their counters come from \`swanctl --list-sas\``,
      async run() {
        for (const c of specs) f.setStrongswanFrontEnd(c.name, 'vici');
        return `VPN ${primary} ↔ ${remote}: strongSwan answers swanctl --list-sas only (ipsec is gone)`;
      },
    },
    'missing-service-cidr': {
      id: 'missing-service-cidr',
      label: 'Missing service CIDR',
      hint: `${remote}'s remote.subnet loses ${primary}'s service CIDR, so the CHILD SA carries only pod addresses`,
      async run() {
        const spec = specs.find((c) => c.name === primary)!;
        f.setSubnets(remote, primary, { remoteSubnets: [spec.podCidr] });
        return `VPN ${remote}: remote.subnet is now ${spec.podCidr} only (${spec.serviceCidr} is missing)`;
      },
    },
    'tcp-blocked': {
      id: 'tcp-blocked',
      label: 'TCP blocked, ICMP passes',
      hint: `A firewall drops TCP from ${remote}'s pods to ${primary}: pings answer, pilot and mixer ports time out`,
      async run() {
        f.setTcpBlocked(remote, primary);
        return `${remote} → ${primary}: TCP dropped, ICMP still passes`;
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
