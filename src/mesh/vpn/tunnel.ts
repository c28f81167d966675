import { cidrCovers, parseCidr } from './ipv4.ts';
import type { EspTraffic, PeerTunnel, SideState } from './report.ts';
import type { ConnConfig, IkeSa } from './strongswan.ts';

/**
 * One strongSwan pod's SAs judged towards one peer cluster: up only with an ESTABLISHED IKE SA that has an
 * INSTALLED CHILD SA; an IKE SA without one is "no-child" (phase 1 up, no tunnel for packets).
 */

export interface PeerCidrs {
  name: string;
  cidrs: readonly string[];
}

const overlaps = (ts: readonly string[], cidrs: readonly string[]) =>
  ts.some((t) => parseCidr(t) !== undefined && cidrs.some((c) => cidrCovers(t, c) || cidrCovers(c, t)));

/**
 * The SAs that belong to `peer`: by the CHILD SA's remote traffic selectors, else by the configured
 * connection's (statusall "Connections:"), else — when this side has only one peer — all of them.
 */
function sasFor(
  sas: readonly IkeSa[],
  conns: readonly ConnConfig[],
  peer: PeerCidrs,
  onlyPeer: boolean,
): IkeSa[] {
  if (onlyPeer || peer.cidrs.length === 0) return [...sas];
  return sas.filter(
    (sa) =>
      sa.children.some((c) => overlaps(c.remoteTs, peer.cidrs)) ||
      conns.some((c) => c.name === sa.name && overlaps(c.remoteTs, peer.cidrs)),
  );
}

const INSTALLED = 'INSTALLED';
const ESTABLISHED = 'ESTABLISHED';
const HALF_OPEN = new Set(['CREATED', 'CONNECTING']);

function describe(sa: IkeSa): string {
  const children = sa.children.map((c) => `CHILD ${c.name}{${c.id}} ${c.state}`);
  return [`${sa.name}[${sa.id}] ${sa.state}`, ...children].join(', ');
}

export function peerTunnel(
  sas: readonly IkeSa[],
  conns: readonly ConnConfig[],
  own: PeerCidrs,
  peer: PeerCidrs,
  onlyPeer: boolean,
): PeerTunnel {
  const mine = sasFor(sas, conns, peer, onlyPeer);
  const up = mine.find((sa) => sa.state === ESTABLISHED && sa.children.some((c) => c.state === INSTALLED));
  const established = mine.find((sa) => sa.state === ESTABLISHED);
  const connecting = mine.find((sa) => HALF_OPEN.has(sa.state));
  const state: SideState = up ? 'up' : established ? 'no-child' : connecting ? 'connecting' : 'no-sa';
  const shown = up ?? established ?? connecting;
  const detail = shown ? describe(shown) : mine.length > 0 ? mine.map(describe).join('; ') : 'no IKE SA';
  const installed = up?.children.filter((c) => c.state === INSTALLED) ?? [];
  const carried = (side: 'localTs' | 'remoteTs', cidrs: readonly string[]) =>
    up ? cidrs.filter((cidr) => !installed.some((c) => c[side].some((ts) => cidrCovers(ts, cidr)))) : [];
  const counted = installed.filter((c) => c.counters);
  const esp =
    counted.length > 0
      ? {
          children: counted.map((c) => `${c.name}{${c.id}}`),
          counters: counted.reduce(
            (sum, c) => ({
              bytesIn: sum.bytesIn + c.counters!.bytesIn,
              bytesOut: sum.bytesOut + c.counters!.bytesOut,
              packetsIn: sum.packetsIn + c.counters!.packetsIn,
              packetsOut: sum.packetsOut + c.counters!.packetsOut,
            }),
            { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 },
          ),
        }
      : undefined;
  return {
    peer: peer.name,
    state,
    ...(shown ? { conn: shown.name } : {}),
    detail,
    missingRemote: carried('remoteTs', peer.cidrs),
    missingLocal: carried('localTs', own.cidrs),
    ...(esp ? { esp } : {}),
  };
}

/**
 * What moved between two reads of the same CHILD SAs; nothing when they were rekeyed in between (new SAs
 * count from zero) or a read has no counters.
 */
export function espTraffic(before: PeerTunnel, after: PeerTunnel, seconds: number): EspTraffic | undefined {
  if (!before.esp || !after.esp) return undefined;
  if (before.esp.children.join(' ') !== after.esp.children.join(' ')) return undefined;
  return {
    seconds,
    bytesIn: after.esp.counters.bytesIn - before.esp.counters.bytesIn,
    bytesOut: after.esp.counters.bytesOut - before.esp.counters.bytesOut,
    packetsIn: after.esp.counters.packetsIn - before.esp.counters.packetsIn,
    packetsOut: after.esp.counters.packetsOut - before.esp.counters.packetsOut,
  };
}
