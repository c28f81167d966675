import type { ExecResult } from '../../kube/cluster.ts';
import { isIpv4 } from './ipv4.ts';

/**
 * What iputils ping and BusyBox ping print (iputils and BusyBox; real outputs in test/fixtures/vpn/), read into
 * numbers. Output that is neither a statistics block nor one of ping's own error lines is never
 * interpreted: it comes back as `unparsed` with the raw text.
 */

export type PingFlavour = 'iputils' | 'busybox';

export interface Rtt {
  min: number;
  avg: number;
  max: number;
}

export type PingOutcome =
  | {
      kind: 'stats';
      flavour: PingFlavour;
      transmitted: number;
      received: number;
      /** ICMP errors such as "Destination Host Unreachable" (iputils `+N errors`). */
      errors: number;
      lossPercent: number;
      rtt?: Rtt;
    }
  /** ping ran and stopped before any statistics, e.g. "connect: Network is unreachable". */
  | { kind: 'error'; reason: string }
  /** The probe container has no usable ping binary (exit 126/127). */
  | { kind: 'no-ping'; reason: string }
  | { kind: 'unparsed'; reason: string; raw: string };

/** `-W` is whole seconds in BusyBox; iputils accepts fractions but rounding up keeps both the same. */
export function pingArgv(ip: string, count: number, timeoutMs: number): string[] {
  // The last guard before a cluster: only a plain dotted quad ever becomes an argument.
  if (!isIpv4(ip)) throw new Error(`refusing to ping "${ip}": not a plain IPv4 address`);
  return ['ping', '-c', String(count), '-W', String(Math.max(1, Math.ceil(timeoutMs / 1000))), ip];
}

/** Pings are sent a second apart: how long a ping waits by design before its last echo goes out. */
export const pingWaitMs = (count: number) => (count - 1) * 1000;

/** The exec bound: the pings' spacing, the last one's -W, and a margin for the exec's set-up. */
export function probeTimeLimitMs(count: number, timeoutMs: number): number {
  return pingWaitMs(count) + Math.max(1000, Math.ceil(timeoutMs / 1000) * 1000) + 3000;
}

const STATS =
  /^(\d+) packets transmitted, (\d+) (packets )?received((?:, \+\d+ (?:duplicates|corrupted|errors))*)(?:, (\d+) duplicates)?, (\d+(?:\.\d+)?)% packet loss(?:, time \d+ms)?$/m;
const RTT =
  /^(?:rtt min\/avg\/max\/mdev|round-trip min\/avg\/max) = ([\d.]+)\/([\d.]+)\/([\d.]+)(?:\/[\d.]+)? ms/m;
const IPUTILS_HEADER = /^PING \S+ \(\S+\) \d+\(\d+\) bytes of data\.$/m;
const BUSYBOX_HEADER = /^PING \S+ \(\S+\): \d+ data bytes$/m;
const PING_ERROR = /^ping: (.+)$/gm;

const MAX_RAW = 4000;
const raw = (result: ExecResult) =>
  [result.stdout, result.stderr]
    .filter((t) => t.trim().length > 0)
    .join('\n--- stderr ---\n')
    .slice(0, MAX_RAW);

function unparsed(result: ExecResult, reason: string): PingOutcome {
  return { kind: 'unparsed', reason, raw: raw(result) };
}

export function parsePing(result: ExecResult): PingOutcome {
  if (result.exitCode === 126 || result.exitCode === 127) {
    const said = result.stderr.trim() || result.stdout.trim();
    return {
      kind: 'no-ping',
      reason: `ping is not available in the probe container (exit ${result.exitCode}${said ? `: ${said.split('\n')[0]}` : ''})`,
    };
  }
  const text = result.stdout;
  const stats = STATS.exec(text);
  if (!stats) {
    const errors = [...`${result.stderr}\n${result.stdout}`.matchAll(PING_ERROR)].map((m) => m[1]!);
    if (errors.length > 0 && result.exitCode !== 0) {
      return { kind: 'error', reason: errors.at(-1)!.replace(/^(connect|sendto): /, '') };
    }
    return unparsed(result, 'no ping statistics in the output');
  }
  const flavour: PingFlavour = stats[3] ? 'busybox' : 'iputils';
  const header = flavour === 'busybox' ? BUSYBOX_HEADER : IPUTILS_HEADER;
  if (!header.test(text)) return unparsed(result, `statistics of ${flavour} ping without its header line`);
  const transmitted = Number(stats[1]);
  const received = Number(stats[2]);
  const errors = Number(/\+(\d+) errors/.exec(stats[4] ?? '')?.[1] ?? 0);
  const lossPercent = Number(stats[6]);
  if (transmitted === 0 || received > transmitted) {
    return unparsed(result, `${received} received of ${transmitted} transmitted does not add up`);
  }
  const expectedLoss = ((transmitted - received) * 100) / transmitted;
  // iputils prints %g, BusyBox truncates to an integer: both stay within one point of the exact value.
  if (Math.abs(expectedLoss - lossPercent) >= 1) {
    return unparsed(result, `${lossPercent}% loss does not match ${received} of ${transmitted} received`);
  }
  if ((received > 0 ? 0 : 1) !== result.exitCode) {
    return unparsed(
      result,
      `exit code ${result.exitCode} does not match ${received} of ${transmitted} received`,
    );
  }
  const rttMatch = RTT.exec(text);
  if (received > 0 && !rttMatch)
    return unparsed(result, 'replies were received but no round-trip line follows');
  const rtt = rttMatch
    ? { min: Number(rttMatch[1]), avg: Number(rttMatch[2]), max: Number(rttMatch[3]) }
    : undefined;
  return {
    kind: 'stats',
    flavour,
    transmitted,
    received,
    errors,
    lossPercent: Math.round(expectedLoss * 10) / 10,
    ...(rtt ? { rtt } : {}),
  };
}
