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

export interface Location {
  cluster: string;
  kind: 'pod' | 'service' | 'external';
  nodeName?: string;
}

/** Who holds an address right now; backed by the clusters' live pods and services. */
export interface AddressBook {
  locate(ip: string): Location | undefined;
}

export type Route =
  | { reachable: false }
  | { reachable: true; ttl: number; rttMs: number; lossOut: number; lossBack: number };

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

interface TunnelRuntime {
  spec: TunnelSpec;
  sides: Map<string, TunnelSideSpec & { establishedAt: number }>;
}

const pairKey = (a: string, b: string) => [a, b].sort().join('|');
const linkKey = (from: string, to: string) => `${from}>${to}`;

function inAny(cidrs: readonly string[], ip: number): boolean {
  return cidrs.some((c) => cidrContains(parseCidr(c), ip));
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
        },
      ]),
    );
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
    for (const [cluster, s] of t.sides) {
      if (side !== undefined && cluster !== side) continue;
      if (s.state === 'down' && state !== 'down') s.establishedAt = now;
      s.state = state;
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

  /** Where an ICMP echo from `srcIp` (a pod in `fromCluster` on `fromNode`) to `dstIp` goes. */
  route(fromCluster: string, fromNode: string | undefined, srcIp: string, dstIp: string): Route {
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
    // The CHILD SA's traffic selectors decide what enters the tunnel in each direction.
    if (!inAny(here.remoteSubnets, dst) || !inAny(there.remoteSubnets, src)) return { reachable: false };
    const out = this.#quality(fromCluster, where.cluster, dst, tunnel.spec.rttMs);
    const back = this.#quality(where.cluster, fromCluster, src, tunnel.spec.rttMs);
    return {
      reachable: true,
      ttl: 62,
      rttMs: out.rttMs,
      lossOut: out.lossPct / 100,
      lossBack: back.lossPct / 100,
    };
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
