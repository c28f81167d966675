// `nc` (netcat-openbsd, as Ubuntu xenial packages it) in a simulated container: only the zero-I/O port
// check `nc -z [-u] [-n] [-v] [-w secs] host port`, answered from the network model. Its messages are
// netcat.c's: "Connection to H P port [tcp/*] succeeded!", "nc: connect to H port P (tcp) failed: …" and
// "… timed out: Operation now in progress" (Debian's connect-timeout patch).

import { parseIpv4 } from '../net/ipv4.ts';
import { getopt } from './ping.ts';
import { type Program, stderr } from './types.ts';

const SPEC = '46bCDdFhI:i:jklNnO:P:p:q:rSs:T:tUuV:vw:X:x:Zz';
const USAGE =
  'usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-O length]\n\t  [-P proxy_username] [-p source_port] [-q seconds] [-s source]\n\t  [-T toskeyword] [-V rtable] [-w timeout] [-X proxy_protocol]\n\t  [-x proxy_address[:port]] [destination] [port]\n';

export const ncProgram: Program = async function* nc(args, ctx) {
  const { options, operands, error } = getopt(args, SPEC);
  if (error) {
    yield stderr(
      error.kind === 'invalid'
        ? `nc: invalid option -- '${error.letter}'\n${USAGE}`
        : `nc: option requires an argument -- '${error.letter}'\n${USAGE}`,
    );
    return 1;
  }
  const has = (letter: string) => options.some(([l]) => l === letter);
  const wait = options.find(([l]) => l === 'w')?.[1];
  const [host, portText] = operands;
  if (!has('z') || host === undefined || portText === undefined) {
    // Anything but a port check would need stdin or a listener: not simulated.
    yield stderr(USAGE);
    return 1;
  }
  if (parseIpv4(host) === undefined) {
    yield stderr(`nc: getaddrinfo for host "${host}" port ${portText}: Name or service not known\n`);
    return 1;
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    yield stderr(`nc: port number invalid: ${portText}\n`);
    return 1;
  }
  const timeoutMs = wait !== undefined && /^\d+$/.test(wait) ? Number(wait) * 1000 : 120_000;
  const udp = has('u');
  const verbose = has('v');
  const pod = ctx.pod as { status?: { podIP?: string }; spec?: { nodeName?: string } };
  const result = ctx.network.connect(
    ctx.cluster,
    pod.spec?.nodeName,
    pod.status?.podIP ?? '',
    host,
    { port, protocol: udp ? 'UDP' : 'TCP' },
    ctx.traits.strongswan,
  );
  const proto = udp ? 'udp' : 'tcp';
  const rtt = ctx.network.route(
    ctx.cluster,
    pod.spec?.nodeName,
    pod.status?.podIP ?? '',
    host,
    ctx.traits.strongswan,
  );
  // UDP "connects" without a packet, and the test writes go out before any ICMP error could come back.
  if (udp || result === 'open') {
    if (!udp && rtt.reachable) await ctx.wait(rtt.rttMs);
    if (verbose) yield stderr(`Connection to ${host} ${port} port [${proto}/*] succeeded!\n`);
    return 0;
  }
  if (result === 'refused') {
    if (rtt.reachable) await ctx.wait(rtt.rttMs);
    if (verbose) yield stderr(`nc: connect to ${host} port ${port} (${proto}) failed: Connection refused\n`);
    return 1;
  }
  await ctx.wait(timeoutMs);
  if (verbose)
    yield stderr(`nc: connect to ${host} port ${port} (${proto}) timed out: Operation now in progress\n`);
  return 1;
};
