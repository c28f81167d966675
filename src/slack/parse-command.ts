import type { Command } from '../queue/jobs.ts';

/** What the parser may check without touching a cluster: names from the loaded config. */
export interface ParseContext {
  clusters: readonly { name: string; role: 'primary' | 'remote' }[];
  presets: readonly string[];
  schedules: readonly string[];
}

export type Access = 'anyone' | 'operator';

export interface CommandSpec {
  words: readonly string[];
  usage: string;
  summary: string;
  access: Access;
  /** Commands that change a cluster or state are never retried blindly. */
  writes: boolean;
  /** Reads whose identical requests in one channel share one run while it is queued or running. */
  coalesce?: true;
  parse(args: string[], ctx: ParseContext): Command | string;
}

export type ParseResult =
  | { ok: true; command: Command; spec: CommandSpec }
  | { ok: false; help: true }
  | { ok: false; help: false; error: string; usage?: string };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Everything meshops accepts is a name, a number or an IPv4 address; anything else never reaches a cluster.
const SAFE_TOKEN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const list = (names: readonly string[]) => (names.length > 0 ? names.join(', ') : '(none configured)');

function cluster(name: string | undefined, ctx: ParseContext, role?: 'remote'): string | { name: string } {
  const pool = role ? ctx.clusters.filter((c) => c.role === role) : ctx.clusters;
  if (name === undefined) return 'a cluster name is required';
  if (!pool.some((c) => c.name === name)) {
    return `unknown ${role ?? ''}${role ? ' ' : ''}cluster "${name}"; configured: ${list(pool.map((c) => c.name))}`;
  }
  return { name };
}

function exact(args: string[], max: number): string | undefined {
  return args.length > max ? `unexpected argument "${args[max]}"` : undefined;
}

function named(
  kind: 'preset' | 'schedule',
  name: string | undefined,
  known: readonly string[],
): string | undefined {
  if (name === undefined) return `a ${kind} name is required; available: ${list(known)}`;
  if (!known.includes(name)) return `unknown ${kind} "${name}"; available: ${list(known)}`;
  return undefined;
}

export const COMMAND_SPECS: readonly CommandSpec[] = [
  {
    words: ['clusters'],
    usage: '/mesh clusters',
    summary: 'each cluster with its role and whether its API server answers',
    access: 'anyone',
    writes: false,
    coalesce: true,
    parse: (args) => exact(args, 0) ?? { kind: 'clusters' },
  },
  {
    words: ['status'],
    usage: '/mesh status [cluster]',
    summary: 'Istio control plane, data plane, remote secrets and address drift, with a verdict',
    access: 'anyone',
    writes: false,
    coalesce: true,
    parse(args, ctx) {
      const extra = exact(args, 1);
      if (extra) return extra;
      if (args[0] === undefined) return { kind: 'status' };
      const c = cluster(args[0], ctx);
      return typeof c === 'string' ? c : { kind: 'status', cluster: c.name };
    },
  },
  {
    words: ['vpn'],
    usage: '/mesh vpn',
    summary: 'strongSwan tunnel state and pod-IP pings across clusters, both directions',
    access: 'anyone',
    writes: false,
    coalesce: true,
    parse: (args) => exact(args, 0) ?? { kind: 'vpn' },
  },
  {
    words: ['ping'],
    usage: '/mesh ping <from-cluster> <to-cluster | IPv4>',
    summary: 'ping from a probe pod in one cluster to a pod IP or every target of another cluster',
    access: 'anyone',
    writes: false,
    parse(args, ctx) {
      const extra = exact(args, 2);
      if (extra) return extra;
      const from = cluster(args[0], ctx);
      if (typeof from === 'string') return from;
      const to = args[1];
      if (to === undefined) return 'a target is required: a cluster name or a pod IPv4 address';
      if (IPV4.test(to)) return { kind: 'ping', from: from.name, target: { type: 'ip', ip: to } };
      if (/^[\d.]+$/.test(to)) return `"${to}" is not a valid IPv4 address`;
      const target = cluster(to, ctx);
      if (typeof target === 'string')
        return `target must be a cluster name or a plain IPv4 address: ${target}`;
      if (target.name === from.name) return 'from and to are the same cluster; ping goes across the VPN';
      return { kind: 'ping', from: from.name, target: { type: 'cluster', name: target.name } };
    },
  },
  {
    words: ['route', 'list'],
    usage: '/mesh route list',
    summary: 'every routing preset in plain words, and which one the live routes match',
    access: 'anyone',
    writes: false,
    parse: (args) => exact(args, 0) ?? { kind: 'route-list' },
  },
  {
    words: ['route', 'show'],
    usage: '/mesh route show [virtualservice]',
    summary: 'the live routes on the primary cluster in plain words',
    access: 'anyone',
    writes: false,
    parse: (args) =>
      exact(args, 1) ??
      (args[0] === undefined ? { kind: 'route-show' } : { kind: 'route-show', virtualService: args[0] }),
  },
  {
    words: ['route', 'diff'],
    usage: '/mesh route diff <preset>',
    summary: 'the live routes against a preset, as a compact diff',
    access: 'anyone',
    writes: false,
    parse: (args, ctx) =>
      exact(args, 1) ?? named('preset', args[0], ctx.presets) ?? { kind: 'route-diff', preset: args[0]! },
  },
  {
    words: ['route', 'apply'],
    usage: '/mesh route apply <preset>',
    summary: 'request a preset; a second person approves it in Slack before it is applied',
    access: 'operator',
    writes: true,
    parse: (args, ctx) =>
      exact(args, 1) ?? named('preset', args[0], ctx.presets) ?? { kind: 'route-apply', preset: args[0]! },
  },
  {
    words: ['route', 'rollback'],
    usage: '/mesh route rollback',
    summary: 'request the routes saved before the last applied change, through the same approval',
    access: 'operator',
    writes: true,
    parse: (args) => exact(args, 0) ?? { kind: 'route-rollback' },
  },
  {
    words: ['audit'],
    usage: '/mesh audit [n]',
    summary: 'the latest n audit entries (default 10, at most 50)',
    access: 'anyone',
    writes: false,
    parse(args) {
      const extra = exact(args, 1);
      if (extra) return extra;
      if (args[0] === undefined) return { kind: 'audit', limit: 10 };
      const n = Number(args[0]);
      if (!/^\d+$/.test(args[0]) || n < 1 || n > 50)
        return `n must be a whole number from 1 to 50, not "${args[0]}"`;
      return { kind: 'audit', limit: n };
    },
  },
  {
    words: ['schedule', 'list'],
    usage: '/mesh schedule list',
    summary: 'scheduled health posts with cron, time zone, next run and last verdict',
    access: 'anyone',
    writes: false,
    parse: (args) => exact(args, 0) ?? { kind: 'schedule-list' },
  },
  {
    words: ['schedule', 'run'],
    usage: '/mesh schedule run <name>',
    summary: 'run a scheduled health post now, into its channel',
    access: 'anyone',
    writes: false,
    parse: (args, ctx) =>
      exact(args, 1) ?? named('schedule', args[0], ctx.schedules) ?? { kind: 'schedule-run', name: args[0]! },
  },
  {
    words: ['schedule', 'pause'],
    usage: '/mesh schedule pause <name>',
    summary: 'pause a scheduled health post (operators)',
    access: 'operator',
    writes: true,
    parse: (args, ctx) =>
      exact(args, 1) ??
      named('schedule', args[0], ctx.schedules) ?? { kind: 'schedule-pause', name: args[0]! },
  },
  {
    words: ['schedule', 'resume'],
    usage: '/mesh schedule resume <name>',
    summary: 'resume a paused scheduled health post (operators)',
    access: 'operator',
    writes: true,
    parse: (args, ctx) =>
      exact(args, 1) ??
      named('schedule', args[0], ctx.schedules) ?? { kind: 'schedule-resume', name: args[0]! },
  },
  {
    words: ['repair', 'drift'],
    usage: '/mesh repair drift [remote]',
    summary: 're-point a remote at the live control-plane addresses, behind approval (operators)',
    access: 'operator',
    writes: true,
    parse(args, ctx) {
      const extra = exact(args, 1);
      if (extra) return extra;
      if (args[0] === undefined) return { kind: 'repair-drift' };
      const c = cluster(args[0], ctx, 'remote');
      return typeof c === 'string' ? c : { kind: 'repair-drift', remote: c.name };
    },
  },
];

export function helpText(): string {
  const width = Math.max(...COMMAND_SPECS.map((s) => s.usage.length));
  const lines = COMMAND_SPECS.map((s) => `${s.usage.padEnd(width)}  ${s.summary}`);
  return [
    '*meshops* — one Istio mesh across your clusters',
    '```',
    `${'/mesh help'.padEnd(width)}  this text`,
    ...lines,
    '```',
  ].join('\n');
}

/** Slack escapes &, < and > in command text; undo it so "&amp;" is judged as the "&" the user typed. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function parseCommand(rawText: string, ctx: ParseContext): ParseResult {
  const text = unescapeSlack(rawText).trim();
  const tokens = text.length === 0 ? [] : text.split(/\s+/);
  const first = tokens[0]?.toLowerCase();
  if (first === undefined || first === 'help' || first === '--help' || first === '-h')
    return { ok: false, help: true };

  const bad = tokens.find((t) => !SAFE_TOKEN.test(t));
  if (bad !== undefined) {
    return {
      ok: false,
      help: false,
      error: `"${bad}" is not allowed: arguments are names, numbers or IPv4 addresses (no flags, quotes, or shell characters such as ; $ \` | &)`,
    };
  }

  const groups = COMMAND_SPECS.filter((s) => s.words[0] === first);
  if (groups.length === 0) {
    const known = [...new Set(COMMAND_SPECS.map((s) => s.words[0]))];
    return {
      ok: false,
      help: false,
      error: `unknown subcommand "${tokens[0]}"; try one of: ${known.join(', ')}, help`,
    };
  }
  const spec =
    groups.find((s) => s.words.length === 1) ?? groups.find((s) => s.words[1] === tokens[1]?.toLowerCase());
  if (!spec) {
    return {
      ok: false,
      help: false,
      error:
        tokens[1] === undefined
          ? `"${first}" needs one of: ${groups.map((s) => s.words[1]).join(', ')}`
          : `unknown ${first} action "${tokens[1]}"; try one of: ${groups.map((s) => s.words[1]).join(', ')}`,
      usage: groups.map((s) => s.usage).join('\n'),
    };
  }
  const parsed = spec.parse(tokens.slice(spec.words.length), ctx);
  if (typeof parsed === 'string') return { ok: false, help: false, error: parsed, usage: spec.usage };
  return { ok: true, command: parsed, spec };
}
