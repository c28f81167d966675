import { type Finding, type Health, SEVERITY_ORDER } from '../health.ts';
import { execForbidden, failed, pathFindings, routeless } from './analyze-paths.ts';
import { cidrCovers, parseCidr } from './ipv4.ts';
import type { PingOutcome } from './ping.ts';
import type {
  MtuResult,
  PeerTunnel,
  PodRef,
  PortResult,
  ProbeResult,
  ProbeStatus,
  RoutesState,
  SideState,
  TunnelSide,
  VpnArea,
  VpnSettings,
} from './report.ts';

/**
 * Turns tunnel states and ping results into findings that say what to check, and one verdict. Pure:
 * everything it knows comes in as data, so every rule is tested without a cluster.
 */

export interface ClusterNet {
  name: string;
  role: 'primary' | 'remote';
  podCidrs: readonly string[];
  serviceCidrs: readonly string[];
}

/** Where a cluster's pings run from, or why they cannot; `shared` when the probe is the strongSwan pod itself. */
export type ProbeSource =
  | { cluster: string; ok: true; pod: PodRef }
  | { cluster: string; ok: false; problem: string; shared: boolean };

export interface AnalysisInput {
  clusters: readonly ClusterNet[];
  /** The tunnels this run judges, e.g. the primary with every remote. */
  pairs: readonly (readonly [string, string])[];
  tunnels: readonly TunnelSide[];
  sources: readonly ProbeSource[];
  probes: readonly ProbeResult[];
  /** Clusters whose pods could not be listed for targets. */
  discovery: readonly { cluster: string; problem: string }[];
  /** Nothing to ping for a component or app, in words. */
  skipped: readonly string[];
  settings: VpnSettings;
  nodeProbes?: readonly ProbeResult[];
  mtu?: readonly MtuResult[];
  ports?: readonly PortResult[];
  routes?: readonly RoutesState[];
  /** Clusters where no ordinary pod could be found to probe from. */
  nodeProbeProblems?: readonly { cluster: string; problem: string }[];
}

export interface Analysis {
  verdict: Health;
  summary: string;
  findings: Finding<VpnArea>[];
}

type Stats = Extract<PingOutcome, { kind: 'stats' }>;

export function probeStatus(
  outcome: ProbeResult['outcome'],
  thresholds: VpnSettings['thresholds'],
): ProbeStatus {
  switch (outcome.kind) {
    case 'stats':
      if (outcome.received === 0) return 'lost';
      if (outcome.lossPercent > thresholds.lossPercent) return 'loss';
      if (outcome.rtt && outcome.rtt.avg > thresholds.rttWarnMs) return 'slow';
      return 'ok';
    case 'unparsed':
      return 'unparsed';
    default:
      return 'error';
  }
}

/** The tunnel between the primary and a remote is named after the remote; any other after both ends. */
export function tunnelName(a: string, b: string, clusters: readonly ClusterNet[]): string {
  const primary = clusters.find((c) => c.role === 'primary')?.name;
  if (a === primary) return b;
  if (b === primary) return a;
  return [a, b].sort().join('-');
}

type Down = Exclude<SideState, 'up'>;

const ONE_SIDE: Record<Down, (c: string) => string> = {
  'no-sa': (c) => `tunnel down on the ${c} side (no SA)`,
  connecting: (c) => `tunnel down on the ${c} side (CONNECTING, no answer from its peer)`,
  'no-child': (c) => `IKE up but no CHILD SA on ${c}`,
};

const BOTH_SIDES: Record<Down, (a: string, b: string) => string> = {
  'no-sa': (a, b) => `tunnel down on both sides (no SA on ${a} or ${b})`,
  connecting: (a, b) => `tunnel down on both sides (${a} and ${b} are CONNECTING with no answer)`,
  'no-child': (a, b) => `IKE up but no CHILD SA on ${a} and ${b}`,
};

/** The two sides' states in words; undefined means that side could not be read. */
function tunnelText(a: string, sa: SideState | undefined, b: string, sb: SideState | undefined): string {
  if (sa === sb && sa !== undefined && sa !== 'up') return BOTH_SIDES[sa](a, b);
  const down = new Set([sa, sb]);
  if (down.has('no-sa') && down.has('connecting')) {
    const [initiator, listener] = sa === 'connecting' ? [a, b] : [b, a];
    return `tunnel down on both sides (${initiator} is CONNECTING with no answer, no SA on ${listener})`;
  }
  const parts: string[] = [];
  if (sa !== undefined && sa !== 'up') parts.push(ONE_SIDE[sa](a));
  if (sb !== undefined && sb !== 'up') parts.push(ONE_SIDE[sb](b));
  return parts.join('; ');
}

/** A side whose configured remote subnets do not cover the other side's local ones (`ipsec statusall` lists both). */
function selectorGap(side: TunnelSide | undefined, other: TunnelSide | undefined): string | undefined {
  if (!side?.ok || !other?.ok) return undefined;
  const connOf = (s: typeof side, peer: string) => {
    const name = s.peers.find((p) => p.peer === peer)?.conn;
    return s.conns.find((c) => c.name === name) ?? (s.conns.length === 1 ? s.conns[0] : undefined);
  };
  const mine = connOf(side, other.cluster);
  const theirs = connOf(other, side.cluster);
  if (!mine || !theirs) return undefined;
  const uncovered = theirs.localTs.filter(
    (ts) => parseCidr(ts) !== undefined && !mine.remoteTs.some((r) => cidrCovers(r, ts)),
  );
  if (uncovered.length === 0) return undefined;
  return `check remote.subnet on ${side.cluster}: it is ${mine.remoteTs.join(',')} but ${other.cluster}'s local.subnet is ${theirs.localTs.join(',')}`;
}

function tunnelAction(
  a: string,
  sa: SideState | undefined,
  b: string,
  sb: SideState | undefined,
  sides: Map<string, TunnelSide>,
): string {
  if (sa === 'no-child' || sb === 'no-child') {
    return (
      selectorGap(sides.get(a), sides.get(b)) ??
      selectorGap(sides.get(b), sides.get(a)) ??
      'the CHILD SA was refused: local.subnet on each side must match remote.subnet on the other'
    );
  }
  if (sa === 'up' || sb === 'up') {
    return `the sides disagree: restart strongSwan on ${sa === 'up' ? b : a}, or wait for dead peer detection to re-establish the tunnel`;
  }
  if (sa === 'connecting' || sb === 'connecting') {
    const quiet = sa === 'connecting' ? b : a;
    return `check that strongSwan runs on ${quiet}, the gateway address the other side dials, and that UDP 500 and 4500 pass between them`;
  }
  return 'neither side has an SA: the side with auto=start must initiate; check strongSwan on both clusters and that UDP 500 and 4500 pass';
}

const pct = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(1)}%`;
const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
const named = (p: ProbeResult) => `${p.target.label} (${p.target.ip})`;
const list = (items: readonly string[], max = 4) =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

type Add = (f: Finding<VpnArea>) => void;

/** `skipped`: clusters whose pings were skipped for the same pod; said once, with the tunnel. */
function sideFindings(tunnels: readonly TunnelSide[], skipped: ReadonlySet<string>, add: Add): void {
  for (const side of tunnels) {
    if (side.ok) continue;
    const c = side.cluster;
    const also = skipped.has(c) ? `; pings from ${c} were skipped too` : '';
    const pod = side.pod ? `${side.pod.namespace}/${side.pod.name}` : 'the strongSwan pod';
    switch (side.kind) {
      case 'forbidden':
        add(execForbidden(c, side.problem));
        break;
      case 'no-pod':
        add({
          id: `vpn/strongswan/${c}`,
          area: 'not-checked',
          severity: 'warning',
          text: `no strongSwan pod on ${c}: ${side.problem}${also}`,
          action:
            'set vpn.strongswan (or clusters[].vpn.strongswan) to the namespace and selector of the strongSwan pod',
        });
        break;
      case 'pod-not-ready':
        add({
          id: `vpn/strongswan/${c}`,
          area: 'tunnel',
          severity: 'warning',
          text: `strongSwan pod ${pod} on ${c} is not ready (${side.problem}), so its tunnel state was not read${also}`,
          action: `look at the pod: kubectl describe pod -n ${side.pod?.namespace} ${side.pod?.name}`,
        });
        break;
      case 'no-daemon':
        add({
          id: `vpn/strongswan/${c}`,
          area: 'tunnel',
          severity: 'critical',
          text: `strongSwan is not running in ${pod} on ${c}: ${side.problem}`,
          action: 'the tunnel has no endpoint on this side: restart the pod',
        });
        break;
      case 'denied':
        add({
          id: `vpn/strongswan/${c}`,
          area: 'not-checked',
          severity: 'warning',
          text: `could not read the tunnel state in ${pod} on ${c}: ${side.problem}${also}`,
          action:
            "the exec user may not use charon's socket and `sudo` did not help: allow `sudo ipsec statusall` in the image, or point vpn.strongswan.container at a container that runs as root",
        });
        break;
      case 'unparsed':
        add({
          id: `vpn/unparsed/${c}/tunnel`,
          area: 'not-checked',
          severity: 'warning',
          text: `could not parse the strongSwan status from ${pod} on ${c}: ${side.problem}`,
          ...(side.raw !== undefined ? { raw: side.raw } : {}),
        });
        break;
      case 'no-tool':
        add({
          id: `vpn/strongswan/${c}`,
          area: 'not-checked',
          severity: 'warning',
          text: `could not read the tunnel state on ${c}: ${side.problem}`,
          action:
            'point vpn.strongswan.container (or clusters[].vpn.strongswan.container) at the strongSwan container',
        });
        break;
      case 'failed':
        add({
          id: `vpn/strongswan/${c}`,
          area: 'not-checked',
          severity: 'warning',
          text: `could not read the tunnel state on ${c}: ${side.problem}${also}`,
        });
        break;
    }
  }
}

function pairFindings(input: AnalysisInput, sides: Map<string, TunnelSide>, add: Add): void {
  const net = new Map(input.clusters.map((c) => [c.name, c]));
  for (const [a, b] of input.pairs) {
    const viewOf = (x: string, y: string): PeerTunnel | undefined => {
      const s = sides.get(x);
      return s?.ok ? s.peers.find((p) => p.peer === y) : undefined;
    };
    const ta = viewOf(a, b);
    const tb = viewOf(b, a);
    const name = tunnelName(a, b, input.clusters);
    const inPair = input.probes.filter(
      (p) => (p.from === a && p.target.cluster === b) || (p.from === b && p.target.cluster === a),
    );
    const measured = inPair.filter((p) => p.outcome.kind === 'stats');
    const lost = measured.filter((p) => p.status === 'lost');
    const [sa, sb] = [ta?.state, tb?.state];
    if ((sa !== undefined && sa !== 'up') || (sb !== undefined && sb !== 'up')) {
      const text = tunnelText(a, sa, b, sb);
      const pings = measured.length > 0 ? ` — ${lost.length} of ${measured.length} pings lost` : '';
      add({
        id: `vpn/tunnel/${name}`,
        area: 'tunnel',
        severity: 'critical',
        text: `${text}${pings}`,
        action: tunnelAction(a, sa, b, sb, sides),
      });
      continue;
    }
    const oneWay = espFinding(a, ta, b, tb, name);
    if (oneWay) add(oneWay);
    for (const [side, peer, view] of [
      [a, b, ta],
      [b, a, tb],
    ] as const) {
      if (!view) continue;
      const peerView = viewOf(peer, side);
      if (view.missingRemote.length > 0) {
        add({
          id: `vpn/subnets/${side}/remote`,
          area: 'subnets',
          severity: 'warning',
          text: `the CHILD SA on ${side} does not carry ${peer}'s ${cidrWords(net.get(peer), view.missingRemote)}`,
          action: gapAction(view.missingRemote, side, peer, sides),
        });
      }
      // The peer's missing remote range is the same gap seen from the other end: said once.
      const localGap = view.missingLocal.filter((c) => !peerView?.missingRemote.includes(c));
      if (localGap.length > 0) {
        add({
          id: `vpn/subnets/${side}/local`,
          area: 'subnets',
          severity: 'warning',
          text: `the CHILD SA on ${side} does not carry its own ${cidrWords(net.get(side), localGap)}`,
          action: gapAction(localGap, peer, side, sides),
        });
      }
    }
    // Packets that never arrive explain every lost ping of the pair.
    if (oneWay) continue;
    const bothWays = inPair.some((p) => p.from === a) && inPair.some((p) => p.from === b);
    if (measured.length > 0 && lost.length === measured.length && bothWays) {
      add({
        id: `vpn/path/${name}`,
        area: 'reachability',
        severity: 'critical',
        text: `the tunnel is up but no ping passes between ${a} and ${b} (${lost.length} of ${measured.length} lost)`,
        action:
          'check the routes that send pod traffic into the tunnel (the strongswan-routes DaemonSet or node routes), firewalls, and that ESP or UDP 4500 passes',
      });
      continue;
    }
    directionFindings(a, b, measured, sides, input, add);
    directionFindings(b, a, measured, sides, input, add);
  }
}

/** "pod CIDR 10.1.0.0/16", "service CIDR 10.0.0.0/24", or both kinds named. */
function cidrWords(net: ClusterNet | undefined, cidrs: readonly string[]): string {
  const service = cidrs.filter((c) => net?.serviceCidrs.includes(c));
  const pod = cidrs.filter((c) => !service.includes(c));
  const part = (kind: string, list: string[]) =>
    list.length === 0 ? [] : [`${kind} CIDR${list.length > 1 ? 's' : ''} ${list.join(', ')}`];
  return [...part('pod', pod), ...part('service', service)].join(' and ');
}

/**
 * Where to add `cidrs` (of `owner`) that the CHILD SA between `carrier` and `owner` lacks: IKEv2 narrows the
 * selectors to what both configurations list, so the configuration (statusall "Connections:") that lacks
 * them is the one to change.
 */
function gapAction(
  cidrs: readonly string[],
  carrier: string,
  owner: string,
  sides: Map<string, TunnelSide>,
): string {
  const list = cidrs.join(',');
  const conn = (cluster: string, peer: string) => {
    const s = sides.get(cluster);
    if (!s?.ok) return undefined;
    const name = s.peers.find((p) => p.peer === peer)?.conn;
    return s.conns.find((c) => c.name === name) ?? (s.conns.length === 1 ? s.conns[0] : undefined);
  };
  const covers = (ts: readonly string[] | undefined, c: string) => ts?.some((t) => cidrCovers(t, c));
  const remote = conn(carrier, owner)?.remoteTs;
  const local = conn(owner, carrier)?.localTs;
  const fixes = [
    ...(remote && cidrs.some((c) => !covers(remote, c)) ? [`remote.subnet on ${carrier}`] : []),
    ...(local && cidrs.some((c) => !covers(local, c)) ? [`local.subnet on ${owner}`] : []),
  ];
  if (fixes.length > 0) return `add ${list} to ${fixes.join(' and ')}`;
  return `add ${list} to remote.subnet on ${carrier} and to local.subnet on ${owner} (each side's CHILD SA carries only what both configurations list)`;
}

const bytes = (n: number) =>
  n >= 1_000_000
    ? `${(n / 1_000_000).toFixed(1)} MB`
    : n >= 1000
      ? `${(n / 1000).toFixed(1)} kB`
      : `${n} bytes`;

const ONE_WAY_MIN_PACKETS = 3;

/**
 * One-way ESP: a side whose CHILD SA encrypted packets between the two reads of its counters but decrypted
 * none. Its peer's ESP does not arrive, while both ends still show the tunnel INSTALLED.
 */
function espFinding(
  a: string,
  ta: PeerTunnel | undefined,
  b: string,
  tb: PeerTunnel | undefined,
  name: string,
): Finding<VpnArea> | undefined {
  // A few packets out and none in: one echo request just before the second read is not yet one-way ESP.
  const deaf = (t: PeerTunnel | undefined) =>
    !!t?.traffic && t.traffic.packetsOut >= ONE_WAY_MIN_PACKETS && t.traffic.bytesIn === 0;
  const [deafA, deafB] = [deaf(ta), deaf(tb)];
  if (!deafA && !deafB) return undefined;
  const window = (t: PeerTunnel) => `${Math.max(1, Math.round(t.traffic!.seconds))} s`;
  if (deafA && deafB) {
    return {
      id: `vpn/esp/${name}`,
      area: 'tunnel',
      severity: 'critical',
      text: `ESP lost both ways between ${a} and ${b}: each side sends (${a} ${bytes(ta!.traffic!.bytesOut)}, ${b} ${bytes(tb!.traffic!.bytesOut)} in ${window(ta!)}) and receives nothing, while both CHILD SAs are INSTALLED`,
      action: `UDP 4500 (ESP in UDP; IP protocol 50 without NAT) is dropped between the gateways: check the firewalls, security groups and NAT devices between ${a}'s and ${b}'s strongSwan LoadBalancers`,
    };
  }
  const [receiver, tr, sender, ts] = deafA ? [a, ta!, b, tb] : [b, tb!, a, ta];
  const other = ts?.traffic ? `, while ${sender} decrypts ${bytes(ts.traffic.bytesIn)} from ${receiver}` : '';
  return {
    id: `vpn/esp/${name}`,
    area: 'tunnel',
    severity: 'critical',
    text: `one-way ESP: ${receiver} sends ${bytes(tr.traffic!.bytesOut)} to ${sender} but receives nothing back (bytes_i did not move in ${window(tr)})${other}; both CHILD SAs are INSTALLED`,
    action: `ESP from ${sender} does not reach ${receiver}. Likely: UDP 4500 (or IP protocol 50 without NAT) blocked from ${sender}'s gateway towards ${receiver}'s by a firewall, security group or ACL in front of ${receiver}'s strongSwan LoadBalancer; a NAT device on the way that dropped or changed its mapping (NAT keepalives, the LoadBalancer's source IP); or ${sender} routing its ESP out another interface. Compare \`tcpdump -ni any udp port 4500\` on both gateways`,
  };
}

/** `from`'s CHILD SA towards `to` does not carry `cidr` as a remote range. */
function notCarriedBy(sides: Map<string, TunnelSide>, from: string, to: string, cidr: string): boolean {
  const own = sides.get(from);
  return own?.ok === true && own.peers.find((t) => t.peer === to)?.missingRemote.includes(cidr) === true;
}

/** `to`'s CHILD SA towards `from` does not offer `cidr` as a local range. */
function notOfferedBy(sides: Map<string, TunnelSide>, from: string, to: string, cidr: string): boolean {
  const peer = sides.get(to);
  return peer?.ok === true && peer.peers.find((t) => t.peer === from)?.missingLocal.includes(cidr) === true;
}

/** `cidr` is missing from the CHILD SA between `from` and `to`, as either side reads it. */
const outOfTunnel = (sides: Map<string, TunnelSide>, from: string, to: string, cidr: string) =>
  notCarriedBy(sides, from, to, cidr) || notOfferedBy(sides, from, to, cidr);

/**
 * "the CHILD SAs on icp and iks carry 172.30.0.0/16", from the sides whose view of the pair was read; undefined
 * when neither was. Both ends of a CHILD SA install the same selectors, so one side read is enough to tell.
 */
function carriedWords(
  sides: Map<string, TunnelSide>,
  from: string,
  to: string,
  cidrs: readonly string[],
): string | undefined {
  const readers = [
    [from, to],
    [to, from],
  ].flatMap(([x, y]) => {
    const s = sides.get(x!);
    return s?.ok && s.peers.some((p) => p.peer === y) ? [x!] : [];
  });
  if (readers.length === 0) return undefined;
  const many = readers.length > 1;
  return `the CHILD SA${many ? 's' : ''} on ${readers.join(' and ')} carr${many ? 'y' : 'ies'} ${cidrs.join(', ')}`;
}

/**
 * What to change when pings towards `cidrs` on `to` are lost from `from`. The subnet settings are named only
 * when a CHILD SA lacks a range (then the configuration that lacks it), or when neither side could be read.
 */
function subnetAction(
  from: string,
  to: string,
  cidrs: readonly string[],
  sides: Map<string, TunnelSide>,
): string {
  const gaps = cidrs.filter((c) => outOfTunnel(sides, from, to, c));
  if (gaps.length > 0) return gapAction(gaps, from, to, sides);
  if (cidrs.length === 0)
    return `list ${to}'s pod CIDRs under clusters[].podCidrs, and check remote.subnet on ${from}`;
  const carried = carriedWords(sides, from, to, cidrs);
  if (carried) {
    return `${carried}, so the traffic selectors are not the cause: check the routes into the tunnel on both sides (the strongswan-routes DaemonSet or node routes), then firewalls and network policies that may drop ICMP on the way`;
  }
  return `check remote.subnet on ${from} (it must include ${cidrs.join(', ')}) and the routes into the tunnel on both sides`;
}

/**
 * A lost ping that says nothing about the VPN because its target answers none: a Service's ClusterIP wherever
 * kube-proxy runs in iptables or nftables mode (it forwards only the Service's own ports; only IPVS mode, which
 * binds ClusterIPs to the node's kube-ipvs0, answers), or an address no pod holds. `looked`: whether the pod
 * lookup for addresses on the target's cluster worked.
 */
function silentTarget(
  p: ProbeResult,
  net: ClusterNet | undefined,
  looked: boolean,
): 'service' | 'no-pod' | undefined {
  const { pod, cidr } = p.target;
  if (p.status !== 'lost' || pod || !cidr) return undefined;
  if (net?.serviceCidrs.includes(cidr)) return 'service';
  return looked ? 'no-pod' : undefined;
}

/** A lost ping that is expected of its target: said as such (info), with the probes that do tell. */
function silentFinding(
  p: ProbeResult,
  kind: 'service' | 'no-pod',
  net: ClusterNet | undefined,
  sides: Map<string, TunnelSide>,
): Finding<VpnArea> {
  const { from, target } = p;
  const to = target.cluster;
  const carried = carriedWords(sides, from, to, [target.cidr!]);
  const vpn = carried
    ? `The tunnel is up and ${carried}, so this lost ping says nothing about the VPN. `
    : '';
  const toPrimary = net?.role === 'primary';
  const pods = `/mesh ping ${from} ${to} pings ${toPrimary ? 'its control-plane pods' : 'one pod per app there'}`;
  const [text, action] =
    kind === 'service'
      ? [
          `${target.ip} is a Service address on ${to} (service CIDR ${target.cidr}): a ClusterIP answers no ping`,
          `${vpn}kube-proxy forwards only a Service's own ports to its pods (in iptables and nftables mode; in IPVS mode the node answers pings). Check a port instead: ${
            toPrimary
              ? `/mesh vpn connects from every remote to the TCP ports of ${to}'s control-plane Services`
              : `\`nc -z ${target.ip} <port>\` from a pod on ${from}`
          }; ${pods}`,
        ]
      : [
          `no pod on ${to} has ${target.ip}, so nothing there answers the ping`,
          `${vpn}Ping a pod's IP instead (\`kubectl get pods -o wide\` on ${to} lists them); ${pods}`,
        ];
  return {
    id: `vpn/no-echo/${from}>${to}/${target.ip}`,
    area: 'reachability',
    severity: 'info',
    text,
    action,
  };
}

/**
 * Lost pings in one direction. A whole direction lost while the other answers, or a destination CIDR where
 * nothing answers while other ranges do, names the subnet to add when a CHILD SA lacks the range ("add
 * 10.1.0.0/16 to remote.subnet on iks"), else the routes and filters on the way. A ping to an address that
 * answers none (a ClusterIP, an address no pod has) is said to be that, not counted as lost.
 */
function directionFindings(
  from: string,
  to: string,
  measured: readonly ProbeResult[],
  sides: Map<string, TunnelSide>,
  input: Pick<AnalysisInput, 'clusters' | 'discovery' | 'settings'>,
  add: Add,
): void {
  const { settings } = input;
  const net = input.clusters.find((c) => c.name === to);
  const looked = !input.discovery.some((d) => d.cluster === to);
  // A range the selectors lack explains the lost ping as well: that is said with the subnet to add.
  const silent = new Set<ProbeResult>();
  for (const p of measured) {
    if (p.from !== from || p.target.cluster !== to) continue;
    const kind = silentTarget(p, net, looked);
    if (!kind || outOfTunnel(sides, from, to, p.target.cidr!)) continue;
    silent.add(p);
    add(silentFinding(p, kind, net, sides));
  }
  const here = measured.filter((p) => p.from === from && p.target.cluster === to && !silent.has(p));
  const back = measured.filter((p) => p.from === to && p.target.cluster === from);
  const isLost = (p: ProbeResult) => p.status === 'lost';
  if (here.length === 0) return;
  if (here.every(isLost)) {
    const cidrs = [...new Set(here.flatMap((p) => (p.target.cidr ? [p.target.cidr] : [])))];
    const answered = back.length > 0 && !back.some(isLost);
    add({
      id: `vpn/direction/${from}>${to}`,
      area: 'reachability',
      severity: 'critical',
      text: `${answered ? `pings from ${from} to ${to} are lost while ${to} → ${from} answers` : `no ping from ${from} to ${to} is answered`}: ${list(here.map(named))}`,
      action: subnetAction(from, to, cidrs, sides),
    });
    return;
  }
  const byCidr = new Map<string, ProbeResult[]>();
  for (const p of here) byCidr.set(p.target.cidr ?? '', [...(byCidr.get(p.target.cidr ?? '') ?? []), p]);
  const explained = new Set<ProbeResult>();
  for (const [cidr, group] of byCidr) {
    if (!group.every(isLost)) continue;
    for (const p of group) explained.add(p);
    add({
      id: `vpn/cidr/${from}>${to}/${cidr || 'unlisted'}`,
      area: 'reachability',
      severity: 'critical',
      text: `replies lost only towards ${cidr || `addresses of ${to} outside its configured CIDRs`} on ${to} when pinged from ${from}: ${list(group.map(named))}`,
      action: subnetAction(from, to, cidr ? [cidr] : [], sides),
    });
  }
  const rest = here.filter((p) => !explained.has(p));
  const lost = rest.filter((p) => p.status === 'lost');
  if (lost.length > 0) {
    add({
      id: `vpn/lost/${from}>${to}`,
      area: 'reachability',
      severity: 'warning',
      text: `${lost.length} of ${here.length} targets on ${to} do not answer pings from ${from}: ${list(lost.map(named))}`,
      action: 'other pods of the same ranges answer: check these pods, their nodes and network policies',
    });
  }
  const lossy = rest.filter((p) => p.status === 'loss');
  if (lossy.length > 0) {
    add({
      id: `vpn/loss/${from}>${to}`,
      area: 'reachability',
      severity: 'warning',
      text: `packet loss from ${from} to ${to}: ${list(lossy.map((p) => `${named(p)} ${pct((p.outcome as Stats).lossPercent)}`))}`,
      action: `loss above ${pct(settings.thresholds.lossPercent)} (vpn.thresholds.lossPercent) on a tunnel that is up: look for congestion or MTU problems on the path`,
    });
  }
  const slow = rest.filter((p) => p.status === 'slow');
  if (slow.length > 0) {
    add({
      id: `vpn/rtt/${from}>${to}`,
      area: 'reachability',
      severity: 'warning',
      text: `slow from ${from} to ${to}: ${list(slow.map((p) => `${named(p)} avg ${ms((p.outcome as Stats).rtt!.avg)}`))}`,
      action: `average round trip above ${ms(settings.thresholds.rttWarnMs)} (vpn.thresholds.rttWarnMs)`,
    });
  }
}

/** Pings that did not measure anything, one finding per kind of failure and direction. */
function probeProblems(probes: readonly ProbeResult[], add: Add): void {
  const groups = new Map<string, ProbeResult[]>();
  for (const p of probes) {
    if (p.status !== 'error' && p.status !== 'unparsed') continue;
    const key = `${p.outcome.kind}|${p.from}|${p.target.cluster}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const group of groups.values()) {
    const { from, probe, outcome, target } = group[0]!;
    const pod = `${probe.namespace}/${probe.name}`;
    switch (outcome.kind) {
      case 'exec-failed':
        add(
          outcome.forbidden
            ? execForbidden(from, outcome.reason)
            : {
                id: `vpn/probe/${from}`,
                area: 'not-checked',
                severity: 'warning',
                text: `could not run ping in ${pod} on ${from}: ${outcome.reason}`,
              },
        );
        break;
      case 'no-ping':
        add({
          id: `vpn/probe/${from}`,
          area: 'not-checked',
          severity: 'warning',
          text: `the probe pod ${pod} on ${from} cannot ping: ${outcome.reason}`,
          action:
            'set vpn.probe (or clusters[].vpn.probe) to a pod whose image has ping (iputils or BusyBox)',
        });
        break;
      case 'error':
        add({
          id: `vpn/error/${from}>${target.cluster}`,
          area: 'reachability',
          severity: 'critical',
          text: `ping from ${from} to ${target.cluster} failed: ${list(
            group.map((p) => `${named(p)}: ${(p.outcome as { reason: string }).reason}`),
            3,
          )}`,
          action: `the probe pod on ${from} has no route to these addresses: check the routes into the tunnel`,
        });
        break;
      case 'unparsed':
        add({
          id: `vpn/unparsed/${from}>${target.cluster}`,
          area: 'not-checked',
          severity: 'warning',
          text: `could not parse the ping output from ${pod} on ${from} for ${list(group.map(named), 3)}: ${outcome.reason}`,
          raw: outcome.raw,
        });
        break;
    }
  }
}

export function analyze(input: AnalysisInput): Analysis {
  const findings: Finding<VpnArea>[] = [];
  const add: Add = (f) => {
    // The same cause seen twice (exec forbidden for the tunnel read and for the pings) is one finding.
    if (!findings.some((x) => x.id === f.id)) findings.push(f);
  };
  const sides = new Map(input.tunnels.map((t) => [t.cluster, t]));
  const failedSides = new Set(input.tunnels.filter((t) => !t.ok).map((t) => t.cluster));
  const sharedSkips = new Set(
    input.sources.filter((s) => !s.ok && s.shared && failedSides.has(s.cluster)).map((s) => s.cluster),
  );
  sideFindings(input.tunnels, sharedSkips, add);
  for (const s of input.sources) {
    if (s.ok || sharedSkips.has(s.cluster)) continue;
    add({
      id: `vpn/probe/${s.cluster}`,
      area: 'not-checked',
      severity: 'warning',
      text: `no probe pod on ${s.cluster}: ${s.problem}`,
      action:
        'pings from this cluster were skipped; set vpn.probe (or clusters[].vpn.probe) to a running pod with ping',
    });
  }
  for (const d of input.discovery) {
    add({
      id: `vpn/targets/${d.cluster}`,
      area: 'not-checked',
      severity: 'warning',
      text: `could not list the pods to ping on ${d.cluster}: ${d.problem}`,
    });
  }
  // A pod on a node without its routes pod cannot answer across the tunnel: that node explains those pings.
  const routes = input.routes ?? [];
  const unexplained = input.probes.filter(
    (p) => !(failed(p) && routeless(routes, p.target.cluster, p.target.node)),
  );
  pairFindings({ ...input, probes: unexplained }, sides, add);
  probeProblems(input.probes, add);
  pathFindings(
    {
      clusters: input.clusters,
      probes: input.probes,
      nodeProbes: input.nodeProbes ?? [],
      mtu: input.mtu ?? [],
      ports: input.ports ?? [],
      routes,
      outOfTunnel: (from, to, cidr) => outOfTunnel(sides, from, to, cidr),
    },
    add,
  );
  for (const n of input.nodeProbeProblems ?? []) {
    add({
      id: `vpn/node-probe/${n.cluster}`,
      area: 'skipped',
      severity: 'info',
      text: `no probes from ordinary pods on ${n.cluster}: ${n.problem}`,
      action:
        'set vpn.nodeProbe (or clusters[].vpn.nodeProbe) to the namespace, selector and container of app pods',
    });
  }
  input.skipped.forEach((text, i) => {
    add({ id: `vpn/skipped/${i}`, area: 'skipped', severity: 'info', text });
  });
  findings.sort((x, y) => SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity]);

  const measured = input.probes.filter((p) => p.outcome.kind === 'stats');
  const verdict: Health = findings.some((f) => f.severity === 'critical')
    ? 'down'
    : measured.length === 0 && !input.tunnels.some((t) => t.ok)
      ? 'failed'
      : findings.some((f) => f.severity === 'warning')
        ? 'degraded'
        : 'healthy';
  return { verdict, summary: summarize(verdict, findings, input), findings };
}

function summarize(verdict: Health, findings: readonly Finding<VpnArea>[], input: AnalysisInput): string {
  const answered = input.probes.filter((p) => p.outcome.kind === 'stats' && p.status !== 'lost');
  const pings = `${answered.length} of ${input.probes.length} ping targets answer`;
  if (verdict !== 'healthy') {
    const judged = findings.filter((f) => f.severity !== 'info');
    const first = judged[0];
    if (!first) return pings;
    return `${first.text}${judged.length > 1 ? ` (+${judged.length - 1} more)` : ''}`;
  }
  const rtts = answered.map((p) => (p.outcome as Stats).rtt?.avg).filter((n): n is number => n !== undefined);
  const avg = rtts.length > 0 ? `, avg RTT ${ms(rtts.reduce((x, y) => x + y, 0) / rtts.length)}` : '';
  const up = input.pairs.length === 1 ? 'tunnel up' : `${input.pairs.length} tunnels up`;
  // A healthy run with unanswered pings: each was to an address that answers none, which is the news.
  const silent = findings.filter((f) => f.area === 'reachability');
  if (silent[0]) return `${up}; ${silent[0].text}${silent.length > 1 ? ` (+${silent.length - 1} more)` : ''}`;
  return `${up}; ${pings}${avg}`;
}
