import type { ExecResult } from '../../kube/cluster.ts';

/**
 * strongSwan's view of its tunnels, from `ipsec status`/`ipsec statusall` (stroke, stroke_list.c) and
 * `swanctl --list-sas` (vici), reduced to IKE SAs with their CHILD SAs. A line the parser does not
 * know inside the SA listing makes the whole answer `unparsed`: a tunnel verdict is never guessed.
 */

export interface ChildSa {
  name: string;
  id: number;
  /** CREATED, ROUTED, INSTALLING, INSTALLED, UPDATING, REKEYING, REKEYED, RETRYING, DELETING, … */
  state: string;
  localTs: string[];
  remoteTs: string[];
  /** ESP byte and packet counters, when the listing has them (`ipsec statusall`, `swanctl --list-sas`). */
  counters?: EspCounters;
}

/** What the kernel counted on one CHILD SA: bytes and packets decrypted (in) and encrypted (out). */
export interface EspCounters {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
}

export interface IkeSa {
  name: string;
  id: number;
  /** CREATED, CONNECTING, ESTABLISHED, PASSIVE, REKEYING, REKEYED, DELETING, DESTROYING. */
  state: string;
  /** `address[identity]` (stroke) or `identity @ address[port]` (vici), as printed. */
  local?: string;
  remote?: string;
  children: ChildSa[];
}

/** A configured connection's CHILD traffic selectors (`ipsec statusall` "Connections:"), used to pair SAs with peers. */
export interface ConnConfig {
  name: string;
  localTs: string[];
  remoteTs: string[];
}

export type SaListing = { ok: true; sas: IkeSa[]; conns: ConnConfig[] } | { ok: false; reason: string };

const IKE_STATES = 'CREATED|CONNECTING|ESTABLISHED|PASSIVE|REKEYING|REKEYED|DELETING|DESTROYING';
const CHILD_STATES =
  'CREATED|ROUTED|INSTALLING|INSTALLED|UPDATING|REKEYING|REKEYED|RETRYING|DELETING|DELETED|DESTROYING';

const SA_HEADER = /^Security Associations \((\d+) up, (\d+) connecting\):$/;
const STROKE_IKE = new RegExp(`^(\\S+)\\[(\\d+)\\]: (${IKE_STATES})\\b(.*)$`);
const STROKE_IKE_LINE = /^(\S+)\[(\d+)\]: /;
const STROKE_CHILD = new RegExp(`^(\\S+)\\{(\\d+)\\}:\\s+(${CHILD_STATES}), (.*)$`);
const STROKE_CHILD_TS = /^(\S+)\{(\d+)\}:\s+(\S.*?) === (\S.*?)$/;
const STROKE_CHILD_LINE = /^(\S+)\{(\d+)\}:\s/;
// stroke_list.c: `, N bytes_i` with ` (P pkt[s], Ts ago)` only when N > 0, the same for `bytes_o`.
const STROKE_COUNTERS =
  /^(\S+)\{(\d+)\}:\s+\S+, (\d+) bytes_i(?: \((\d+) pkts?, \d+s ago\))?, (\d+) bytes_o(?: \((\d+) pkts?, \d+s ago\))?/;
const STROKE_CONN_CHILD = /^(\S+):\s+child:\s+(\S.*?) === (\S.*?)\s+(TUNNEL|TRANSPORT|BEET|PASS|DROP)\b/;
const ENDPOINTS = /(\S+)\.\.\.(\S+)\s*$/;

const tsList = (text: string) => text.trim().split(/\s+/).filter(Boolean);

/** Parses `ipsec status` or `ipsec statusall`: the SA section is the same in both. */
export function parseIpsecStatus(text: string): SaListing {
  const lines = text.split('\n').map((l) => l.trim());
  const conns: ConnConfig[] = [];
  for (const line of lines) {
    const m = STROKE_CONN_CHILD.exec(line);
    if (m) conns.push({ name: m[1]!, localTs: tsList(m[2]!), remoteTs: tsList(m[3]!) });
  }
  const start = lines.findIndex((l) => SA_HEADER.test(l));
  if (start < 0) return { ok: false, reason: 'no "Security Associations (… up, … connecting):" line' };
  const [, up, connecting] = SA_HEADER.exec(lines[start]!)!;
  const body = lines.slice(start + 1).filter((l) => l.length > 0);
  if (body.length === 1 && (body[0] === 'none' || body[0] === 'no match')) {
    return { ok: true, sas: [], conns };
  }
  const sas: IkeSa[] = [];
  for (const line of body) {
    const ike = STROKE_IKE.exec(line);
    const current = sas.at(-1);
    const isCurrent = (name?: string, id?: string) =>
      current !== undefined && current.name === name && current.id === Number(id);
    if (ike && !isCurrent(ike[1], ike[2])) {
      const ends = ENDPOINTS.exec(ike[4]!);
      sas.push({
        name: ike[1]!,
        id: Number(ike[2]),
        state: ike[3]!,
        ...(ends ? { local: ends[1]!, remote: ends[2]! } : {}),
        children: [],
      });
      continue;
    }
    // Further lines of a listed SA (SPIs, proposal, tasks, identities) carry no state.
    const ikeLine = STROKE_IKE_LINE.exec(line);
    if (ikeLine && isCurrent(ikeLine[1], ikeLine[2])) continue;
    const child = STROKE_CHILD.exec(line);
    const known = (name?: string, id?: string) =>
      current?.children.find((c) => c.name === name && c.id === Number(id));
    if (child && current && !known(child[1], child[2])) {
      current.children.push(newChildSa(child));
      continue;
    }
    const counted = STROKE_COUNTERS.exec(line);
    const countedChild = counted ? known(counted[1], counted[2]) : undefined;
    if (counted && countedChild) {
      countedChild.counters = {
        bytesIn: Number(counted[3]),
        packetsIn: Number(counted[4] ?? 0),
        bytesOut: Number(counted[5]),
        packetsOut: Number(counted[6] ?? 0),
      };
      continue;
    }
    const ts = STROKE_CHILD_TS.exec(line);
    const owner = ts ? known(ts[1], ts[2]) : undefined;
    if (ts && owner) {
      owner.localTs = tsList(ts[3]!);
      owner.remoteTs = tsList(ts[4]!);
      continue;
    }
    const childLine = STROKE_CHILD_LINE.exec(line);
    if (childLine && known(childLine[1], childLine[2])) continue;
    return { ok: false, reason: `unexpected line in the SA listing: "${line.slice(0, 120)}"` };
  }
  if (sas.length !== Number(up) + Number(connecting)) {
    return {
      ok: false,
      reason: `the header counts ${up} up and ${connecting} connecting but ${sas.length} IKE SAs are listed`,
    };
  }
  return { ok: true, sas, conns };
}

/** A CHILD SA from a listing line matched as (name, #id, state); its traffic selectors come on later lines. */
function newChildSa(m: RegExpExecArray) {
  return { name: m[1]!, id: Number(m[2]), state: m[3]!, localTs: [] as string[], remoteTs: [] as string[] };
}

const VICI_IKE = new RegExp(`^(\\S+): #(\\d+), (${IKE_STATES}), (IKEv[12]), (.*)$`);
const VICI_CHILD = new RegExp(`^ {2}(\\S+): #(\\d+), (?:reqid \\d+, )?(${CHILD_STATES}), (.*)$`);
const VICI_ENDPOINT = /^ {2}(local|remote) {1,2}(.*)$/;
const VICI_CHILD_TS = /^ {4}(local|remote) {1,2}(.*)$/;
// list_sas.c: `    in  <spi>[…], %6s bytes, %5s packets[, %5ss ago]`, then the same for `out`.
const VICI_COUNTERS = /^ {4}(in|out) +\S.*?, +(\d+) bytes, +(\d+) packets/;

/** Parses `swanctl --list-sas` (stdout). Empty output means the daemon answered and has no SA. */
export function parseSwanctlSas(text: string): SaListing {
  const sas: IkeSa[] = [];
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    const ike = VICI_IKE.exec(line);
    if (ike) {
      sas.push({ name: ike[1]!, id: Number(ike[2]), state: ike[3]!, children: [] });
      continue;
    }
    const current = sas.at(-1);
    if (!current || !line.startsWith('  ')) {
      return { ok: false, reason: `unexpected line in the SA listing: "${line.slice(0, 120)}"` };
    }
    const child = VICI_CHILD.exec(line);
    if (child) {
      current.children.push(newChildSa(child));
      continue;
    }
    const endpoint = VICI_ENDPOINT.exec(line);
    if (endpoint) {
      current[endpoint[1] as 'local' | 'remote'] = endpoint[2]!.trim();
      continue;
    }
    const ts = VICI_CHILD_TS.exec(line);
    const last = current.children.at(-1);
    const counted = VICI_COUNTERS.exec(line);
    if (counted && last) {
      const c = last.counters ?? { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 };
      if (counted[1] === 'in') [c.bytesIn, c.packetsIn] = [Number(counted[2]), Number(counted[3])];
      else [c.bytesOut, c.packetsOut] = [Number(counted[2]), Number(counted[3])];
      last.counters = c;
      continue;
    }
    if (ts && last) {
      last[ts[1] === 'local' ? 'localTs' : 'remoteTs'] = tsList(ts[2]!);
    }
    // Other indented lines are details (proposals, timers, byte counters, task lists).
  }
  return { ok: true, sas, conns: [] };
}

export type TunnelTool = 'ipsec' | 'swanctl';

export const TUNNEL_COMMANDS: Record<TunnelTool, readonly string[]> = {
  ipsec: ['ipsec', 'statusall'],
  swanctl: ['swanctl', '--list-sas'],
};

export type TunnelReading =
  | { kind: 'listing'; tool: TunnelTool; sas: IkeSa[]; conns: ConnConfig[] }
  /** The command does not exist in the container: try the other tool. */
  | { kind: 'no-tool'; tool: TunnelTool; reason: string }
  | { kind: 'no-daemon'; tool: TunnelTool; reason: string }
  /** The daemon runs but the exec user may not use its socket (non-root images): try sudo. */
  | { kind: 'denied'; tool: TunnelTool; reason: string }
  | { kind: 'unparsed'; tool: TunnelTool; reason: string; raw: string };

const MAX_RAW = 4000;
const rawOf = (r: ExecResult) =>
  [r.stdout, r.stderr]
    .filter((t) => t.trim().length > 0)
    .join('\n--- stderr ---\n')
    .slice(0, MAX_RAW);
const firstLine = (t: string) => t.trim().split('\n')[0] ?? '';

/** Turns the exec result of a TUNNEL_COMMANDS entry into a reading, using the exit code as a cross-check. */
export function readTunnel(tool: TunnelTool, result: ExecResult, sudo = false): TunnelReading {
  const command = `${sudo ? 'sudo ' : ''}${TUNNEL_COMMANDS[tool].join(' ')}`;
  if (result.exitCode === 126 || result.exitCode === 127) {
    return { kind: 'no-tool', tool, reason: `\`${command}\` is not available (exit ${result.exitCode})` };
  }
  if (tool === 'ipsec' && result.exitCode === 3 && result.stdout.trim() === '') {
    // The ipsec script answers 3 without a word when charon's pid file is missing.
    return {
      kind: 'no-daemon',
      tool,
      reason: `the strongSwan daemon is not running (\`${command}\` exit 3)`,
    };
  }
  // Both front ends say why they could not reach charon's socket (stroke: charon.ctl, vici: charon.vici).
  const socket = /^connecting to '([^']+)' failed: (.+)$/m.exec(result.stderr);
  if (result.exitCode !== 0 && socket) {
    const [, uri, why] = socket;
    return why === 'Permission denied'
      ? { kind: 'denied', tool, reason: `\`${command}\` may not use ${uri}: ${why}` }
      : { kind: 'no-daemon', tool, reason: `the strongSwan daemon does not answer on ${uri}: ${why}` };
  }
  if (result.exitCode !== 0) {
    return {
      kind: 'unparsed',
      tool,
      reason: `\`${command}\` exited ${result.exitCode}${firstLine(result.stderr) ? `: ${firstLine(result.stderr)}` : ''}`,
      raw: rawOf(result),
    };
  }
  const listing = tool === 'ipsec' ? parseIpsecStatus(result.stdout) : parseSwanctlSas(result.stdout);
  if (!listing.ok) return { kind: 'unparsed', tool, reason: listing.reason, raw: rawOf(result) };
  return { kind: 'listing', tool, sas: listing.sas, conns: listing.conns };
}
