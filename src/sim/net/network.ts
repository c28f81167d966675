// The network between simulated clusters: strongSwan tunnels whose two sides each have a state,
// and per-direction loss and RTT, optionally per destination CIDR. Pings and `ipsec status`
// both read this one model, so what the tunnel reports and what pings see always agree.

import { type Cidr, cidrContains, parseCidr, parseIpv4 } from './ipv4.ts';

/** up = IKE SA and CHILD SA; half-up = IKE SA ESTABLISHED but no CHILD SA; down = no SA. */
export type TunnelState = 'up' | 'half-up' | 'down';

export interface TunnelSideSpec {
  /** `start` initiates (shows CONNECTING while the peer is unreachable), `add` only listens. */
  auto: 'add' | 'start';
  localId: string;
  remoteId: string;
  /** The public address the peer connects to (this side's strongSwan LoadBalancer IP). */
  gateway: string;
  localSubnets: readonly string[];
  remoteSubnets: readonly string[];
  state: TunnelState;
  /** Who routes pod traffic into the tunnel on each node; without it, every node is taken to have routes. */
  routes?: RoutesRef;
}

export interface TunnelSpec {
  between: readonly [string, string];
  conn: string;
  /** Default round trip of a probe through the tunnel, per direction unless overridden. */
  rttMs: number;
  establishedSecondsAgo: number;
  sides: Readonly<Record<string, TunnelSideSpec>>;
}

export interface NetworkSpec {
  tunnels: readonly TunnelSpec[];
  sameClusterRttMs: number;
  externalRttMs: number;
}

export interface LinkQuality {
  lossPct: number;
  rttMs: number;
}

export interface Port {
  port: number;
  protocol: 'TCP' | 'UDP';
}

export interface Location {
  cluster: string;
  kind: 'pod' | 'service' | 'external';
  nodeName?: string;
  /** What listens there: a pod's containerPorts, a Service's ports. */
  ports?: readonly Port[];
  /** The strongSwan pod: it is the tunnel's end, so its packets need no node route into the tunnel. */
  gateway?: boolean;
  /** Nothing answers an ICMP echo sent here (a ClusterIP under kube-proxy's iptables mode). */
  ignoresPing?: boolean;
}

/** The DaemonSet that puts the routes to the peer's subnets on every node of one side (the IBM chart's). */
export interface RoutesRef {
  namespace: string;
  daemonSet: string;
}

/** Who holds an address right now; backed by the clusters' live pods and services. */
export interface AddressBook {
  locate(ip: string): Location | undefined;
  /** Whether the routes DaemonSet's pod on `node` runs and is ready (its routes are in place). */
  routesReady?(cluster: string, node: string, routes: RoutesRef): boolean;
}

export type Route =
  | { reachable: false }
  | {
      reachable: true;
      ttl: number;
      rttMs: number;
      lossOut: number;
      lossBack: number;
      /** Set when the packets cross a tunnel: its ESP counters move and its path MTU applies. */
      tunnel?: { from: string; to: string };
    };

/** What a TCP connect or a UDP send meets at the other end. */
export type Connect = 'open' | 'refused' | 'timeout' | 'unreachable';

/**
 * The largest inner packet an ESP-in-UDP tunnel (AES-CBC-256, HMAC-SHA2-256-128) carries over a 1500-byte
 * path: 1500 − 20 (IP) − 8 (UDP) − 8 (SPI, sequence) − 16 (IV) − 16 (ICV), with the payload and its 2-byte
 * trailer padded to the 16-byte cipher block.
 */
export const TUNNEL_INNER_MTU = 1422;

/** Background traffic of a tunnel (sidecars talking to the control plane), per direction. */
const BACKGROUND_PACKETS_PER_SECOND = 3;
const BACKGROUND_PACKET_BYTES = 120;

export interface EspCounters {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
}

export interface TunnelSideView {
  conn: string;
  cluster: string;
  peer: string;
  side: Readonly<TunnelSideSpec>;
  peerSide: Readonly<TunnelSideSpec>;
  establishedAt: number;
  index: number;
}

interface LinkOverride {
  base: Partial<LinkQuality>;
  byCidr: { cidr: Cidr; quality: Partial<LinkQuality> }[];
}

/** One direction of a tunnel: what the sender encrypted and what the receiver decrypted. */
interface Flow {
  sentBytes: number;
  sentPackets: number;
  deliveredBytes: number;
  deliveredPackets: number;
  /** Until when background traffic has been added. */
  accruedAt: number;
  /** ESP from the sender never reaches the receiver (UDP 4500 or protocol 50 dropped on the way). */
  blocked: boolean;
  /** Largest inner packet with DF set that crosses; larger ones vanish (no ICMP comes back). */
  mtu: number;
  /** A firewall drops TCP in this direction (ICMP still passes). */
  tcpBlocked: boolean;
}

interface TunnelRuntime {
  spec: TunnelSpec;
  sides: Map<string, TunnelSideSpec & { establishedAt: number }>;
  flows: Map<string, Flow>;
}

const pairKey = (a: string, b: string) => [a, b].sort().join('|');
const linkKey = (from: string, to: string) => `${from}>${to}`;

const newFlow = (since: number): Flow => ({
  sentBytes: 0,
  sentPackets: 0,
  deliveredBytes: 0,
  deliveredPackets: 0,
  accruedAt: since,
  blocked: false,
  mtu: TUNNEL_INNER_MTU,
  tcpBlocked: false,
});

function flowEnds(t: TunnelRuntime, flow: Flow): [string, string] {
  const [a, b] = t.spec.between;
  return t.flows.get(linkKey(a, b)) === flow ? [a, b] : [b, a];
}

function inAny(cidrs: readonly string[], ip: number): boolean {
  return cidrs.some((c) => cidrContains(parseCidr(c), ip));
}

/**
 * IKEv2 narrowing: the CHILD SA carries the part of one side's subnets the other side also lists (RFC 7296
 * §2.9, strongSwan picks the narrower of two nested selectors), sorted as the kernel lists them.
 */
export function narrow(mine: readonly string[], theirs: readonly string[]): string[] {
  const picked = new Set<string>();
  for (const m of mine.map(parseCidr)) {
    for (const t of theirs.map(parseCidr)) {
      if (cidrContains(m, t.base) && t.prefix >= m.prefix) picked.add(t.text);
      else if (cidrContains(t, m.base) && m.prefix >= t.prefix) picked.add(m.text);
    }
  }
  return [...picked]
    .map(parseCidr)
    .sort((a, b) => a.base - b.base || a.prefix - b.prefix)
    .map((c) => c.text);
}

export class Network {
  readonly #spec: NetworkSpec;
  readonly #book: AddressBook;
  readonly #clock: () => number;
  #tunnels = new Map<string, TunnelRuntime>();
  #links = new Map<string, LinkOverride>();

  constructor(spec: NetworkSpec, book: AddressBook, clock: () => number = Date.now) {
    this.#spec = spec;
    this.#book = book;
    this.#clock = clock;
    this.reset();
  }

  reset(): void {
    const now = this.#clock();
    this.#links = new Map();
    this.#tunnels = new Map(
      this.#spec.tunnels.map((t) => [
        pairKey(t.between[0], t.between[1]),
        {
          spec: t,
          sides: new Map(
            Object.entries(t.sides).map(([cluster, side]) => [
              cluster,
              { ...side, establishedAt: now - t.establishedSecondsAgo * 1000 },
            ]),
          ),
          flows: new Map(
            [t.between, [t.between[1], t.between[0]] as const].map(([from, to]) => [
              linkKey(from, to),
              newFlow(now - t.establishedSecondsAgo * 1000),
            ]),
          ),
        },
      ]),
    );
  }

  #flow(from: string, to: string): Flow {
    const flow = this.#tunnel(from, to).flows.get(linkKey(from, to));
    if (!flow) throw new Error(`no flow from ${from} to ${to}`);
    // Background traffic accrues while both sides have a CHILD SA.
    const now = this.#clock();
    const t = this.#tunnel(from, to);
    const up = [...t.sides.values()].every((s) => s.state === 'up');
    if (up && now > flow.accruedAt) {
      const packets = ((now - flow.accruedAt) / 1000) * BACKGROUND_PACKETS_PER_SECOND;
      flow.sentPackets += packets;
      flow.sentBytes += packets * BACKGROUND_PACKET_BYTES;
      if (!flow.blocked) {
        flow.deliveredPackets += packets;
        flow.deliveredBytes += packets * BACKGROUND_PACKET_BYTES;
      }
    }
    flow.accruedAt = now;
    return flow;
  }

  /** ESP from `from` to `to` is dropped on the way (`blocked`) or passes again. */
  setEspBlocked(from: string, to: string, blocked: boolean): void {
    this.#flow(from, to).blocked = blocked;
  }

  /** The largest DF packet that crosses from `from` to `to`; larger ones are dropped without an ICMP error. */
  setPathMtu(from: string, to: string, mtu: number): void {
    this.#flow(from, to).mtu = mtu;
  }

  /** A stateful firewall drops TCP from `from`'s pods to `to` while ICMP passes. */
  setTcpBlocked(from: string, to: string, blocked: boolean): void {
    this.#flow(from, to).tcpBlocked = blocked;
  }

  /** Replaces one side's configured subnets (ipsec.conf leftsubnet/rightsubnet). */
  setSubnets(
    cluster: string,
    peer: string,
    subnets: { localSubnets?: readonly string[]; remoteSubnets?: readonly string[] },
  ): void {
    const side = this.#tunnel(cluster, peer).sides.get(cluster);
    if (!side) throw new Error(`no side ${cluster} on the tunnel to ${peer}`);
    for (const c of [...(subnets.localSubnets ?? []), ...(subnets.remoteSubnets ?? [])]) parseCidr(c);
    if (subnets.localSubnets) side.localSubnets = [...subnets.localSubnets];
    if (subnets.remoteSubnets) side.remoteSubnets = [...subnets.remoteSubnets];
  }

  /**
   * One packet of `bytes` through the tunnel: counted out on the sender's CHILD SA, and in on the receiver's
   * unless ESP is dropped on the way; false when it does not arrive.
   */
  carry(from: string, to: string, bytes: number, dontFragment: boolean, lostOnTheWay = false): boolean {
    const flow = this.#flow(from, to);
    flow.sentPackets++;
    flow.sentBytes += bytes;
    if (lostOnTheWay || flow.blocked || (dontFragment && bytes > flow.mtu)) return false;
    flow.deliveredPackets++;
    flow.deliveredBytes += bytes;
    return true;
  }

  /** The CHILD SA counters of `cluster`'s side towards `peer`, as the kernel keeps them. */
  counters(cluster: string, peer: string): EspCounters {
    const out = this.#flow(cluster, peer);
    const back = this.#flow(peer, cluster);
    return {
      bytesOut: Math.floor(out.sentBytes),
      packetsOut: Math.floor(out.sentPackets),
      bytesIn: Math.floor(back.deliveredBytes),
      packetsIn: Math.floor(back.deliveredPackets),
    };
  }

  /** The traffic selectors of `cluster`'s CHILD SA towards `peer`: its subnets narrowed by the peer's. */
  childSelectors(cluster: string, peer: string): { local: string[]; remote: string[] } {
    const t = this.#tunnel(cluster, peer);
    const here = t.sides.get(cluster)!;
    const there = t.sides.get(peer)!;
    return {
      local: narrow(here.localSubnets, there.remoteSubnets),
      remote: narrow(here.remoteSubnets, there.localSubnets),
    };
  }

  #tunnel(a: string, b: string): TunnelRuntime {
    const t = this.#tunnels.get(pairKey(a, b));
    if (!t) throw new Error(`no tunnel between ${a} and ${b}`);
    return t;
  }

  /** Sets the state on one side, or on both when `side` is omitted. */
  setTunnel(a: string, b: string, state: TunnelState, side?: string): void {
    const t = this.#tunnel(a, b);
    const now = this.#clock();
    for (const flow of t.flows.values()) this.#flow(...flowEnds(t, flow));
    for (const [cluster, s] of t.sides) {
      if (side !== undefined && cluster !== side) continue;
      if (s.state === 'down' && state !== 'down') s.establishedAt = now;
      s.state = state;
    }
    // A new CHILD SA starts counting from zero.
    if ([...t.sides.values()].some((s) => s.establishedAt === now)) {
      for (const flow of t.flows.values())
        Object.assign(flow, {
          ...newFlow(now),
          blocked: flow.blocked,
          mtu: flow.mtu,
          tcpBlocked: flow.tcpBlocked,
        });
    }
  }

  /** Loss and RTT for packets from `from` to `to`; with `cidr`, only for destinations inside it. */
  setLink(from: string, to: string, quality: Partial<LinkQuality>, cidr?: string): void {
    const key = linkKey(from, to);
    const link = this.#links.get(key) ?? { base: {}, byCidr: [] };
    if (cidr === undefined) {
      link.base = { ...link.base, ...quality };
    } else {
      const parsed = parseCidr(cidr);
      const existing = link.byCidr.find((c) => c.cidr.text === parsed.text);
      if (existing) existing.quality = { ...existing.quality, ...quality };
      else link.byCidr.push({ cidr: parsed, quality });
    }
    this.#links.set(key, link);
  }

  #quality(from: string, to: string, dst: number, tunnelRtt: number): LinkQuality {
    const link = this.#links.get(linkKey(from, to));
    // The longest matching prefix wins, as in a routing table.
    const matching = (link?.byCidr ?? []).filter((c) => cidrContains(c.cidr, dst));
    const specific = matching.sort((a, b) => b.cidr.prefix - a.cidr.prefix)[0]?.quality ?? {};
    return {
      lossPct: specific.lossPct ?? link?.base.lossPct ?? 0,
      rttMs: specific.rttMs ?? link?.base.rttMs ?? tunnelRtt,
    };
  }

  /**
   * Whether a packet from a pod on `node` towards a peer enters the tunnel: the strongSwan pod is the
   * tunnel's end; every other pod needs its node's route to the peer's subnets, which the side's routes
   * DaemonSet puts there (gone while its pod on that node is not running and ready).
   */
  #nodeRouted(side: TunnelSideSpec, cluster: string, node: string | undefined, gateway: boolean): boolean {
    if (gateway || !side.routes || !this.#book.routesReady) return true;
    return node !== undefined && this.#book.routesReady(cluster, node, side.routes);
  }

  /**
   * Where an ICMP echo from `srcIp` (a pod in `fromCluster` on `fromNode`; `fromGateway` for the strongSwan
   * pod) to `dstIp` goes.
   */
  route(
    fromCluster: string,
    fromNode: string | undefined,
    srcIp: string,
    dstIp: string,
    fromGateway = false,
  ): Route {
    const dst = parseIpv4(dstIp);
    const src = parseIpv4(srcIp);
    const where = this.#book.locate(dstIp);
    if (dst === undefined || src === undefined || !where) return { reachable: false };
    if (where.kind === 'external') {
      return { reachable: true, ttl: 54, rttMs: this.#spec.externalRttMs, lossOut: 0, lossBack: 0 };
    }
    if (where.cluster === fromCluster) {
      const sameNode = where.nodeName !== undefined && where.nodeName === fromNode;
      return {
        reachable: true,
        ttl: sameNode ? 64 : 63,
        rttMs: this.#spec.sameClusterRttMs,
        lossOut: 0,
        lossBack: 0,
      };
    }
    const tunnel = this.#tunnels.get(pairKey(fromCluster, where.cluster));
    const here = tunnel?.sides.get(fromCluster);
    const there = tunnel?.sides.get(where.cluster);
    if (!tunnel || !here || !there || here.state !== 'up' || there.state !== 'up')
      return { reachable: false };
    // A pod whose node lacks the routes sends into the node's default route: the packet never enters the
    // tunnel; the reply of such a pod is lost the same way.
    if (!this.#nodeRouted(here, fromCluster, fromNode, fromGateway)) return { reachable: false };
    if (
      where.kind === 'pod' &&
      !this.#nodeRouted(there, where.cluster, where.nodeName, where.gateway === true)
    )
      return { reachable: false };
    // The CHILD SA's traffic selectors decide what enters the tunnel in each direction.
    const selectors = this.childSelectors(fromCluster, where.cluster);
    if (!inAny(selectors.remote, dst) || !inAny(selectors.local, src)) return { reachable: false };
    const out = this.#quality(fromCluster, where.cluster, dst, tunnel.spec.rttMs);
    const back = this.#quality(where.cluster, fromCluster, src, tunnel.spec.rttMs);
    return {
      reachable: true,
      ttl: 62,
      rttMs: out.rttMs,
      lossOut: out.lossPct / 100,
      lossBack: back.lossPct / 100,
      tunnel: { from: fromCluster, to: where.cluster },
    };
  }

  /** Whether whatever holds `dstIp` answers an ICMP echo that reaches it. */
  answersPing(dstIp: string): boolean {
    return this.#book.locate(dstIp)?.ignoresPing !== true;
  }

  /**
   * A TCP connect (or a UDP datagram) from a pod to `dstIp:port`: refused where nothing listens, a timeout
   * where a firewall or a dead path drops it. UDP never answers "open": the caller hears nothing either way.
   */
  connect(
    fromCluster: string,
    fromNode: string | undefined,
    srcIp: string,
    dstIp: string,
    port: Port,
    fromGateway = false,
  ): Connect {
    const route = this.route(fromCluster, fromNode, srcIp, dstIp, fromGateway);
    if (!route.reachable) return 'unreachable';
    if (route.tunnel) {
      const { from, to } = route.tunnel;
      if (port.protocol === 'TCP' && this.#flow(from, to).tcpBlocked) return 'timeout';
      if (!this.carry(from, to, 60, true) || !this.carry(to, from, 60, true)) return 'timeout';
    }
    const where = this.#book.locate(dstIp);
    const listening = where?.ports?.some((p) => p.port === port.port && p.protocol === port.protocol);
    return listening ? 'open' : 'refused';
  }

  /** Every tunnel side that lives in `cluster`, for rendering its strongSwan status. */
  sidesOf(cluster: string): TunnelSideView[] {
    const views: TunnelSideView[] = [];
    let index = 0;
    for (const t of this.#tunnels.values()) {
      index++;
      const side = t.sides.get(cluster);
      if (!side) continue;
      const peer = t.spec.between[0] === cluster ? t.spec.between[1] : t.spec.between[0];
      const peerSide = t.sides.get(peer);
      if (!peerSide) continue;
      views.push({
        conn: t.spec.conn,
        cluster,
        peer,
        side,
        peerSide,
        establishedAt: side.establishedAt,
        index,
      });
    }
    return views;
  }
}
