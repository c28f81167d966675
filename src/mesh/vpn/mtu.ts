import type { ExecResult } from '../../kube/cluster.ts';
import { isIpv4 } from './ipv4.ts';
import { type PingOutcome, parsePing, pingWaitMs } from './ping.ts';

/**
 * The path-MTU probe: iputils `ping -M do -s N` sends echo requests with DF set and never fragments them, so
 * a packet larger than some link on the path is dropped; where the ICMP "fragmentation needed" never comes
 * back (filtered), it just vanishes — the black hole behind "ping works, HTTP hangs". BusyBox ping has no
 * `-M`: it cannot set DF, and meshops says so instead of guessing.
 */

/** IPv4 header and ICMP echo header: `-s` is the payload, the packet is 28 bytes more. */
export const ICMP_OVERHEAD = 28;
/** Two tries per size: one lost echo is not a black hole. */
export const MTU_TRIES = 2;
/** How long one size's probe waits by design (its tries a second apart). */
export const MTU_WAIT_MS = pingWaitMs(MTU_TRIES);

export function mtuArgv(ip: string, packetBytes: number, timeoutMs: number): string[] {
  if (!isIpv4(ip)) throw new Error(`refusing to ping "${ip}": not a plain IPv4 address`);
  const wait = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  return [
    'ping',
    '-M',
    'do',
    '-s',
    String(packetBytes - ICMP_OVERHEAD),
    '-c',
    String(MTU_TRIES),
    '-W',
    wait,
    ip,
  ];
}

/** The second round when the expected size is lost: smaller sizes at once, down to a plain ping. */
export function fallbackSizes(expected: number): number[] {
  const steps = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512];
  return [...steps.map((s) => expected - s).filter((n) => n >= 576), 84];
}

export type SizeResult = { bytes: number; crossed: boolean };

export type MtuOutcome =
  /** A DF packet of the expected size crossed. */
  | { kind: 'fits' }
  /** The expected size is lost; `largest` crossed, `lost` (the next size tried above it) did not. */
  | { kind: 'black-hole'; largest: number; lost: number }
  /** Not even a plain ping crossed: a path problem, judged by the other probes. */
  | { kind: 'unreachable' }
  | { kind: 'no-df'; reason: string }
  | { kind: 'failed'; reason: string; forbidden?: boolean };

/** One DF ping's exec result: crossed, lost, or why it says nothing about the MTU. */
export function readSize(
  result: ExecResult,
): { crossed: boolean } | { noDf: string } | { failed: string; forbidden?: boolean } {
  const said = `${result.stderr}\n${result.stdout}`;
  if (/invalid option -- '?M'?/.test(said) || /unrecognized option/.test(said)) {
    const busybox = /BusyBox v[\d.]+/.exec(said)?.[0];
    return {
      noDf: `${busybox ? `its ping is ${busybox}, which` : 'its ping'} has no -M option and cannot set the DF bit`,
    };
  }
  const outcome: PingOutcome = parsePing(result);
  if (outcome.kind === 'stats') return { crossed: outcome.received > 0 };
  return {
    failed:
      outcome.kind === 'unparsed' ? `could not parse the ping output: ${outcome.reason}` : outcome.reason,
  };
}

/** The path MTU from what crossed: the largest size through, and the smallest lost above it. */
export function judgeSizes(expected: number, sizes: readonly SizeResult[]): MtuOutcome {
  if (sizes.some((s) => s.bytes >= expected && s.crossed)) return { kind: 'fits' };
  const through = sizes.filter((s) => s.crossed).map((s) => s.bytes);
  if (through.length === 0) return { kind: 'unreachable' };
  const largest = Math.max(...through);
  const lost = Math.min(...sizes.filter((s) => !s.crossed && s.bytes > largest).map((s) => s.bytes));
  return { kind: 'black-hole', largest, lost };
}
