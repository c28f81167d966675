import { plural } from '../../chat/mrkdwn.ts';
import type { Finding } from '../health.ts';
import { containingCidr } from './ipv4.ts';
import type { MtuResult, PortResult, ProbeResult, RoutesState, VpnArea } from './report.ts';

/**
 * Findings of the probes that start where app traffic starts: a pod per node, the path MTU, the
 * control-plane ports. Each is said only when the tunnel-level probes do not already explain it: a node whose
 * ping fails while the gateway's answers is that node's problem; a TCP timeout where ping fails too is the
 * path's.
 */

export interface PathInput {
  clusters: readonly { name: string; podCidrs: readonly string[]; serviceCidrs: readonly string[] }[];
  probes: readonly ProbeResult[];
  nodeProbes: readonly ProbeResult[];
  mtu: readonly MtuResult[];
  ports: readonly PortResult[];
  routes: readonly RoutesState[];
  /** Whether the CHILD SAs between `from` and `to` leave `cidr` out (the selector findings say so). */
  outOfTunnel?: (from: string, to: string, cidr: string) => boolean;
}

type Add = (f: Finding<VpnArea>) => void;

/** The routes DaemonSet of `cluster` when its pod on `node` is not ready. */
export function routeless(
  routes: readonly RoutesState[],
  cluster: string,
  node: string | undefined,
): Extract<RoutesState, { ok: true }> | undefined {
  const r = routes.find((x) => x.cluster === cluster);
  return r?.ok && node !== undefined && r.nodesWithout.includes(node) ? r : undefined;
}

/** One cause, one finding: the tunnel read, the pings and the other probes all meet the same 403. */
export function execForbidden(cluster: string, problem: string): Finding<VpnArea> {
  return {
    id: `vpn/exec/${cluster}`,
    area: 'not-checked',
    severity: 'warning',
    text: `meshops may not exec into pods on ${cluster}: ${problem}`,
    action:
      'grant the meshops service account create and get on pods/exec in the strongSwan and probe namespaces',
  };
}

/**
 * Whether the replies to `p`'s pod cannot come back for a reason the matrix already shows: pings from the
 * other side to that pod, or to every target in its range, are lost.
 */
function repliesLost(p: ProbeResult, input: PathInput): boolean {
  const back = input.probes.filter((g) => g.from === p.target.cluster && g.target.cluster === p.from);
  if (back.length === 0 || !p.probe.ip) return false;
  if (back.some((g) => g.target.ip === p.probe.ip && !answered(g))) return true;
  const own = input.clusters.find((c) => c.name === p.from);
  const cidr = own ? containingCidr([...own.podCidrs, ...own.serviceCidrs], p.probe.ip) : undefined;
  const sameRange = cidr ? back.filter((g) => g.target.cidr === cidr) : back;
  return sameRange.length > 0 && sameRange.every((g) => !answered(g));
}

const answered = (p: ProbeResult) => p.outcome.kind === 'stats' && p.status !== 'lost';
export const failed = (p: ProbeResult) => p.status === 'lost' || p.outcome.kind === 'error';
const pod = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
const list = (items: readonly string[], max = 4) =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

/**
 * The routes DaemonSet per cluster: every node whose pod is not ready, with the pings that node explains —
 * its pods' own pings and the other clusters' pings to pods on it (their replies have no route back).
 */
function routesFindings(input: PathInput, add: Add): void {
  for (const r of input.routes) {
    if (!r.ok) {
      add({ id: `vpn/routes/${r.cluster}`, area: 'not-checked', severity: 'warning', text: r.problem });
      continue;
    }
    for (const node of r.nodesWithout) {
      const own = input.nodeProbes.filter((p) => p.from === r.cluster && p.probe.node === node && failed(p));
      const answers = input.probes.filter(
        (p) => p.target.cluster === r.cluster && p.target.node === node && failed(p),
      );
      const victims = [
        ...own.map(
          (p) =>
            `the ping from ${pod(p.probe)} to ${p.target.label} on ${p.target.cluster} (${p.target.ip}) is lost`,
        ),
        ...answers.map((p) => `${p.target.label} (${p.target.ip}) on that node does not answer ${p.from}`),
      ];
      add({
        id: `vpn/routes/${r.cluster}/${node}`,
        area: 'reachability',
        severity: victims.length > 0 ? 'critical' : 'warning',
        text: `node ${node} on ${r.cluster} has no ready ${r.daemonSet} pod (${r.ready} of ${r.desired} ready), so pods there have no route into the tunnel${victims.length > 0 ? `: ${list(victims, 3)}` : ''}`,
        action: `the DaemonSet adds the routes to the other clusters' subnets on each node: find why its pod on ${node} is not ready (kubectl -n <namespace> get pods -o wide | grep ${r.daemonSet}; kubectl describe pod on that node)`,
      });
    }
    if (r.unscheduled > 0) {
      add({
        id: `vpn/routes/${r.cluster}/unscheduled`,
        area: 'reachability',
        severity: 'warning',
        text: `${r.daemonSet} on ${r.cluster} wants ${plural(r.desired, 'pod')}, but ${r.unscheduled} of its nodes ${r.unscheduled === 1 ? 'has' : 'have'} none: pods there have no route into the tunnel`,
        action: `kubectl describe daemonset ${r.daemonSet}: look for node selectors, taints without tolerations, or pods that cannot be created`,
      });
    }
  }
}

/** A node's pods that cannot reach a peer while the gateway's ping answers, on a node with its routes pod ready. */
function nodeFindings(input: PathInput, add: Add): void {
  const byNode = new Map<string, ProbeResult[]>();
  for (const p of input.nodeProbes) {
    if (!failed(p) || routeless(input.routes, p.from, p.probe.node)) continue;
    // Explained by the tunnel: the gateway's ping to the same address fails as well.
    const gateway = input.probes.find((g) => g.from === p.from && g.target.ip === p.target.ip);
    if (!gateway || !answered(gateway) || repliesLost(p, input)) continue;
    const key = `${p.from}/${p.probe.node}`;
    byNode.set(key, [...(byNode.get(key) ?? []), p]);
  }
  for (const group of byNode.values()) {
    const { from, probe } = group[0]!;
    const node = probe.node ?? 'its node';
    const peers = [...new Set(group.map((p) => p.target.cluster))];
    const what = list(group.map((p) => `${p.target.label} on ${p.target.cluster} (${p.target.ip})`));
    add({
      id: `vpn/node/${from}/${node}`,
      area: 'reachability',
      severity: 'critical',
      text: `pods on node ${node} of ${from} cannot reach ${list(peers)}: the ping from ${pod(probe)} to ${what} fails while the strongSwan pod's answers`,
      action: `check the routes to ${list(peers)}'s subnets on ${node} (\`ip route\` on the node; the strongswan-routes DaemonSet adds them) and the network policies of ${pod(probe)}`,
    });
  }
}

function mtuFindings(input: PathInput, add: Add): void {
  for (const m of input.mtu) {
    const id = `vpn/mtu/${m.key}`;
    const where = `${m.from} to ${m.to}`;
    switch (m.outcome.kind) {
      case 'black-hole': {
        const { largest, lost } = m.outcome;
        const mss = largest - 40;
        add({
          id,
          area: 'reachability',
          severity: 'critical',
          text: `MTU black hole from ${where}: packets of ${m.expected} bytes with DF set vanish without an ICMP error (the largest that crosses is ${largest} bytes, ${lost} is lost; vpn.mtu expects ${m.expected}) — small pings pass while large transfers hang`,
          action: `set the MTU of the pod network on both clusters to ${largest} (e.g. Calico veth_mtu), or clamp TCP MSS to ${mss} on the strongSwan gateways (iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss ${mss}); and find the link with the smaller MTU that filters ICMP "fragmentation needed"`,
        });
        break;
      }
      case 'no-df':
        add({
          id,
          area: 'skipped',
          severity: 'info',
          text: `path MTU from ${where} not measured: in ${pod(m.probe)} ${m.outcome.reason}`,
          action:
            'set vpn.nodeProbe to a pod whose container has iputils ping (Istio 1.0’s istio-proxy does)',
        });
        break;
      case 'failed':
        add(
          m.outcome.forbidden
            ? execForbidden(m.from, m.outcome.reason)
            : {
                id,
                area: 'not-checked',
                severity: 'warning',
                text: `path MTU from ${where} not measured from ${pod(m.probe)}: ${m.outcome.reason}`,
              },
        );
        break;
      default:
        break;
    }
  }
}

function icmpPasses(p: PortResult, input: PathInput): boolean {
  if (routeless(input.routes, p.from, p.probe.node)) return false;
  const own = input.nodeProbes.find(
    (g) => g.probe.name === p.probe.name && g.probe.namespace === p.probe.namespace,
  );
  if (own) return answered(own);
  return input.probes.some((g) => g.from === p.from && g.target.ip === p.target.ip && answered(g));
}

const portText = (p: PortResult) =>
  `${p.target.label} ${p.target.ip}:${p.port.port}/${p.port.protocol.toLowerCase()}`;

function portFindings(input: PathInput, add: Add): void {
  const groups = new Map<string, PortResult[]>();
  for (const p of input.ports) {
    const key = `${p.outcome.kind}|${p.from}|${p.target.cluster}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const group of groups.values()) {
    const { from, probe, outcome, target } = group[0]!;
    const to = target.cluster;
    switch (outcome.kind) {
      case 'timeout':
      case 'unreachable': {
        // Where ping fails too (from that pod, else from the gateway to the same address), the path is down
        // and said elsewhere.
        // A Service IP in a range the CHILD SAs leave out is the selectors' finding, not a firewall's.
        const icmp = group.filter(
          (p) =>
            icmpPasses(p, input) &&
            !(p.target.cidr && input.outOfTunnel?.(p.from, p.target.cluster, p.target.cidr)),
        );
        if (icmp.length === 0) break;
        const ports = [...new Set(icmp.map((p) => p.port.port))].sort((a, b) => a - b);
        add({
          id: `vpn/tcp/${from}>${to}`,
          area: 'reachability',
          severity: 'critical',
          text: `TCP blocked while ICMP passes from ${from} to ${to}: ${list(icmp.map(portText), 6)} ${outcome.kind === 'timeout' ? 'time out' : 'are unreachable'} from ${pod(probe)} while ping to the same pods answers`,
          action: `a NetworkPolicy in ${to}'s control-plane namespace or a firewall or security group between the clusters drops TCP from ${from}'s pods: allow TCP ${ports.join(', ')} from ${from}'s pod CIDR; until then ${from}'s sidecars get no configuration from pilot and no policy or telemetry from mixer`,
        });
        break;
      }
      case 'refused':
        add({
          id: `vpn/tcp-refused/${from}>${to}`,
          area: 'reachability',
          severity: 'warning',
          text: `nothing listens on ${list(group.map(portText), 6)} (connection refused from ${from})`,
          action: `the packets arrive but the pod does not serve that port: check the component's ports (controlPlaneSecurityEnabled, chart values) and that it has finished starting`,
        });
        break;
      case 'no-tool':
        add({
          id: `vpn/tcp-tool/${from}`,
          area: 'not-checked',
          severity: 'warning',
          text: `TCP reachability of ${to}'s control plane not checked from ${from}: the ${probe.container ?? 'default'} container of ${pod(probe)} has no nc (${outcome.reason})`,
          action:
            'set vpn.nodeProbe.container (or clusters[].vpn.nodeProbe) to a container with netcat: Istio 1.0’s istio-proxy image has it',
        });
        break;
      case 'exec-failed':
        add(
          outcome.forbidden
            ? execForbidden(from, outcome.reason)
            : {
                id: `vpn/tcp-tool/${from}`,
                area: 'not-checked',
                severity: 'warning',
                text: `could not run nc in ${pod(probe)} on ${from}: ${outcome.reason}`,
              },
        );
        break;
      case 'unparsed':
        add({
          id: `vpn/unparsed/${from}>${to}/tcp`,
          area: 'not-checked',
          severity: 'warning',
          text: `could not read nc's answer in ${pod(probe)} for ${list(group.map(portText), 3)}: ${outcome.reason}`,
          raw: outcome.raw,
        });
        break;
      default:
        break;
    }
  }
}

/** The node probes that could not run at all (no ping, exec refused), one finding per cluster. */
function nodeProbeProblems(input: PathInput, add: Add): void {
  for (const p of input.nodeProbes) {
    const o = p.outcome;
    if (o.kind !== 'exec-failed' && o.kind !== 'no-ping' && o.kind !== 'unparsed') continue;
    if (o.kind === 'exec-failed' && o.forbidden) {
      add(execForbidden(p.from, o.reason));
      continue;
    }
    add({
      id: `vpn/node-probe/${p.from}`,
      area: 'not-checked',
      severity: 'warning',
      text: `could not ping from ${pod(p.probe)} on ${p.from} (node ${p.probe.node ?? '?'}): ${o.reason}`,
      ...(o.kind === 'unparsed' ? { raw: o.raw } : {}),
    });
  }
}

export function pathFindings(input: PathInput, add: Add): void {
  routesFindings(input, add);
  nodeFindings(input, add);
  nodeProbeProblems(input, add);
  mtuFindings(input, add);
  portFindings(input, add);
}
