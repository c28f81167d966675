// `ping` in a simulated pod: iputils or BusyBox flavour, arguments parsed like the real
// binaries (getopt, the same error texts and exit codes), packets decided by the network model.

import { parseIpv4 } from '../net/ipv4.ts';
import type { Route } from '../net/network.ts';
import { busybox, iputils, type PingFormat, type PingReply } from './ping-output.ts';
import { BUSYBOX_USAGE, IPUTILS_USAGE } from './ping-usage.ts';
import { type ExecContext, type Output, type Program, stderr, stdout } from './types.ts';

type Flavour = 'iputils' | 'busybox';

export interface PingOptions {
  target: string;
  count?: number;
  /** Seconds between packets. */
  interval: number;
  /** -W: seconds to wait for a reply. */
  timeout?: number;
  /** -w: seconds until ping exits regardless. */
  deadline?: number;
  quiet: boolean;
  size: number;
  /** iputils `-M do`: the DF bit is set and the packet is never fragmented. */
  dontFragment: boolean;
}

type Parsed =
  | { ok: true; options: PingOptions; warnings: Output[] }
  | { ok: false; output: Output[]; exitCode: number };

interface GetoptResult {
  options: [string, string | undefined][];
  operands: string[];
  error?: { kind: 'invalid' | 'missing'; letter: string };
}

/** POSIX getopt with GNU argument permutation: `-c3`, `-c 3`, `-qc 3` and options after operands. */
export function getopt(args: readonly string[], spec: string): GetoptResult {
  const options: [string, string | undefined][] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      operands.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]!;
      const at = spec.indexOf(letter);
      if (at < 0 || letter === ':') return { options, operands, error: { kind: 'invalid', letter } };
      if (spec[at + 1] !== ':') {
        options.push([letter, undefined]);
        continue;
      }
      const rest = arg.slice(j + 1);
      if (rest) options.push([letter, rest]);
      else if (i + 1 < args.length) options.push([letter, args[++i]!]);
      else return { options, operands, error: { kind: 'missing', letter } };
      break;
    }
  }
  return { options, operands };
}

const IPUTILS_SPEC = '46aAbBc:CdDe:fF:hi:I:l:Lm:M:nN:Op:qQ:rRs:S:t:T:UvVw:W:';
const BUSYBOX_SPEC = 'qvAc:s:t:w:W:I:np:i:46';
const IPUTILS_VERSION =
  'ping from iputils 20221126\nlibcap: yes, IDN: yes, NLS: no, error.h: yes, getrandom(): yes, __fpending(): yes\n';

const fail = (exitCode: number, ...output: Output[]): Parsed => ({ ok: false, output, exitCode });

export function parsePingArgs(args: readonly string[], flavour: Flavour): Parsed {
  const busy = flavour === 'busybox';
  const usage = busy ? BUSYBOX_USAGE : IPUTILS_USAGE;
  const usageExit = busy ? 1 : 2;
  const { options, operands, error } = getopt(args, busy ? BUSYBOX_SPEC : IPUTILS_SPEC);
  if (error) {
    const message =
      error.kind === 'invalid'
        ? `ping: invalid option -- '${error.letter}'\n`
        : `ping: option requires an argument -- '${error.letter}'\n`;
    return fail(usageExit, stderr(message + usage));
  }
  const o: PingOptions = { target: '', interval: 1, quiet: false, size: 56, dontFragment: false };
  const warnings: Output[] = [];
  const badNumber = (v: string) =>
    fail(1, stderr(busy ? `ping: invalid number '${v}'\n` : `ping: invalid argument: '${v}'\n`));
  for (const [letter, value = ''] of options) {
    const integer = /^\d+$/.test(value) ? Number(value) : undefined;
    const real = /^\d+(\.\d+)?$|^\.\d+$/.test(value) ? Number(value) : undefined;
    switch (letter) {
      case 'V':
        if (!busy) return fail(0, stdout(IPUTILS_VERSION));
        break;
      case 'h':
        return fail(usageExit, stderr(usage));
      case 'q':
        o.quiet = true;
        break;
      case 'c':
        if (integer === undefined) return badNumber(value);
        if (integer < 1 && !busy) {
          return fail(
            1,
            stderr(`ping: invalid argument: '${value}': out of range: 1 <= value <= 9223372036854775807\n`),
          );
        }
        // BusyBox treats -c 0 as "no limit".
        if (integer > 0) o.count = integer;
        break;
      case 'w':
        if (integer === undefined) return badNumber(value);
        o.deadline = integer;
        break;
      case 's':
        if (integer === undefined) return badNumber(value);
        o.size = integer;
        break;
      case 'M':
        // ping.c: do, dont, want and probe; anything else is fatal.
        if (!['do', 'dont', 'want', 'probe'].includes(value))
          return fail(2, stderr(`ping: invalid -M argument: ${value}\n`));
        o.dontFragment = value === 'do' || value === 'probe';
        break;
      case 'i':
      case 'W':
        if (real === undefined) {
          if (busy) return badNumber(value);
          // iputils parses a prefix and only warns (ping_common.c: "this will become fatal").
          warnings.push(
            stderr(
              `ping: option argument contains garbage: ${value}\nping: this will become fatal error in the future\n`,
            ),
          );
          break;
        }
        if (letter === 'i') o.interval = real;
        else o.timeout = real;
        break;
    }
  }
  const target = operands.at(-1);
  if (target === undefined) {
    return busy
      ? fail(1, stderr(usage))
      : fail(1, stderr('ping: usage error: Destination address required\n'));
  }
  if (parseIpv4(target) === undefined) {
    // No DNS in the simulation: any name fails to resolve, and a shell string is just a bad name.
    return busy
      ? fail(1, stderr(`ping: bad address '${target}'\n`))
      : fail(2, stderr(`ping: ${target}: Name or service not known\n`));
  }
  o.target = target;
  return { ok: true, options: o, warnings };
}

/**
 * One echo request and its reply: lost on the links, or, through a tunnel, in ESP as the network model says;
 * a request that arrives where nothing answers pings (`answered` false) gets no reply.
 */
function crosses(
  route: Extract<Route, { reachable: true }>,
  ctx: ExecContext,
  o: PingOptions,
  answered: boolean,
): boolean {
  const bytes = o.size + 28;
  const lostOut = ctx.random() < route.lossOut;
  const lostBack = ctx.random() < route.lossBack;
  if (!route.tunnel) return !lostOut && answered && !lostBack;
  const { from, to } = route.tunnel;
  // Linux sends echo replies without DF, so the path MTU only bites the request.
  return (
    ctx.network.carry(from, to, bytes, o.dontFragment, lostOut) &&
    answered &&
    ctx.network.carry(to, from, bytes, false, lostBack)
  );
}

export function pingProgram(flavour: Flavour): Program {
  const format: PingFormat = flavour === 'busybox' ? busybox : iputils;
  return async function* ping(args: readonly string[], ctx: ExecContext) {
    const parsed = parsePingArgs(args, flavour);
    if (!parsed.ok) {
      yield* parsed.output;
      return parsed.exitCode;
    }
    const o = parsed.options;
    yield* parsed.warnings;
    const pod = ctx.pod as { status?: { podIP?: string }; spec?: { nodeName?: string } };
    const route = ctx.network.route(
      ctx.cluster,
      pod.spec?.nodeName,
      pod.status?.podIP ?? '',
      o.target,
      ctx.traits.strongswan,
    );
    const answered = ctx.network.answersPing(o.target);
    const intervalMs = o.interval * 1000;
    const deadlineMs = o.deadline === undefined ? undefined : o.deadline * 1000;
    const timeoutMs = (o.timeout ?? 10) * 1000;

    yield stdout(format.header(o.target, o.target, o.size));
    const replies: PingReply[] = [];
    let clock = 0;
    let transmitted = 0;
    for (let k = 0; ; k++) {
      const sendAt = k * intervalMs;
      if (deadlineMs !== undefined && sendAt >= deadlineMs) break;
      if (o.count !== undefined && (deadlineMs === undefined ? k >= o.count : replies.length >= o.count))
        break;
      await ctx.wait(sendAt - clock);
      clock = sendAt;
      transmitted++;
      if (!route.reachable || !crosses(route, ctx, o, answered)) continue;
      const rtt = route.rttMs * (0.9 + 0.2 * ctx.random());
      if (rtt > timeoutMs) continue;
      await ctx.wait(rtt);
      clock += rtt;
      const reply = { index: k, ttl: route.ttl, timeMs: rtt };
      replies.push(reply);
      if (!o.quiet) yield stdout(format.reply(o.target, o.size, reply));
    }
    const lastSend = (transmitted - 1) * intervalMs;
    // Without every reply, ping lingers for -W (or until -w) after the last packet.
    const endAt =
      replies.length === transmitted ? clock : deadlineMs !== undefined ? deadlineMs : lastSend + timeoutMs;
    await ctx.wait(endAt - clock);
    const elapsedMs = transmitted > 1 ? lastSend + Math.round(ctx.random() * 30) : 0;
    yield stdout(format.summary({ target: o.target, transmitted, replies, elapsedMs }));
    const short = deadlineMs !== undefined && o.count !== undefined && replies.length < o.count;
    return replies.length === 0 || short ? 1 : 0;
  };
}
