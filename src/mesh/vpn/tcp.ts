import type { ExecResult } from '../../kube/cluster.ts';
import { isIpv4 } from './ipv4.ts';
import type { PortOutcome, PortSpec } from './report.ts';

/**
 * TCP reachability with netcat's zero-I/O port check (`nc -z`), which Istio 1.0's proxy image carries
 * (istionightly/base_debug: ubuntu:xenial with netcat). Both netcats answer with the exit code, and with -v
 * say why: openbsd "Connection to H P port [tcp/*] succeeded!" / "connect to H port P (tcp) failed:
 * Connection refused" / "… timed out: …"; traditional "… open" / "… : Connection refused" / "… : Connection
 * timed out". UDP has no handshake: `nc -u -z` only fails when an ICMP port-unreachable is back before its
 * writes end, so silence proves nothing and a UDP port is never reported as open.
 */

export function ncArgv(ip: string, port: PortSpec, timeoutMs: number): string[] {
  if (!isIpv4(ip)) throw new Error(`refusing to connect to "${ip}": not a plain IPv4 address`);
  if (!Number.isInteger(port.port) || port.port < 1 || port.port > 65535)
    throw new Error(`bad port ${port.port}`);
  const wait = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  return [
    'nc',
    '-z',
    '-n',
    '-v',
    '-w',
    wait,
    ...(port.protocol === 'UDP' ? ['-u'] : []),
    ip,
    String(port.port),
  ];
}

/** The exec bound: netcat's own -w plus the exec's set-up. */
export const ncTimeLimitMs = (timeoutMs: number) => Math.max(1000, Math.ceil(timeoutMs / 1000) * 1000) + 3000;

export function parseNc(result: ExecResult, protocol: PortSpec['protocol']): PortOutcome {
  const said = `${result.stderr}\n${result.stdout}`.trim();
  if (result.exitCode === 126 || result.exitCode === 127) {
    return { kind: 'no-tool', reason: `exit ${result.exitCode}` };
  }
  if (result.exitCode === 0) return protocol === 'UDP' ? { kind: 'udp-sent' } : { kind: 'open' };
  if (/Connection refused/i.test(said)) return { kind: 'refused' };
  if (/timed out/i.test(said)) return { kind: 'timeout' };
  const unreachable = /(No route to host|Network is unreachable)/i.exec(said);
  if (unreachable) return { kind: 'unreachable', reason: unreachable[1]! };
  return {
    kind: 'unparsed',
    reason: `nc exited ${result.exitCode} without saying why`,
    raw: said.slice(0, 4000),
  };
}
