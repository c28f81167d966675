import type { Change } from './plan.ts';
import type {
  Destination,
  HttpMatch,
  HttpRoute,
  L4Route,
  RouteDestination,
  StringMatch,
  VirtualServiceSpec,
} from './types.ts';

/**
 * Routes in plain words, derived from the rules themselves so a preset and the live state read the same:
 * "reviews: end-user jason → v2, everyone else → v3", "reviews: 50% v1, 50% v3".
 */

/** The first label of a host: `reviews.default.svc.cluster.local` and `reviews` both read "reviews". */
export const shortHost = (host: string) => host.split('.')[0] ?? host;

function stringMatch(subject: string, m: StringMatch | undefined): string {
  if (!m) return subject;
  if (m.exact !== undefined) return `${subject} ${m.exact}`;
  if (m.prefix !== undefined) return `${subject} starting with ${m.prefix}`;
  if (m.regex !== undefined) return `${subject} matching /${m.regex}/`;
  return `${subject} present`;
}

function matchText(m: HttpMatch): string {
  const parts: string[] = [];
  if (m.uri) parts.push(stringMatch('path', m.uri));
  if (m.method) parts.push(stringMatch('method', m.method));
  if (m.authority) parts.push(stringMatch('authority', m.authority));
  if (m.scheme) parts.push(stringMatch('scheme', m.scheme));
  for (const [name, v] of Object.entries(m.headers ?? {})) parts.push(stringMatch(name, v));
  for (const [name, v] of Object.entries(m.queryParams ?? {})) parts.push(stringMatch(`query ${name}`, v));
  for (const [name, v] of Object.entries(m.withoutHeaders ?? {})) parts.push(`not ${stringMatch(name, v)}`);
  if (m.port !== undefined) parts.push(`port ${m.port}`);
  if (m.sourceLabels)
    parts.push(
      `from ${Object.entries(m.sourceLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`,
    );
  if (m.sourceNamespace) parts.push(`from namespace ${m.sourceNamespace}`);
  if (m.gateways?.length) parts.push(`via ${m.gateways.join(' or ')}`);
  return parts.length > 0 ? parts.join(' and ') : 'everyone';
}

/** A destination on the VirtualService's own host reads as just its subset ("v2"). */
function destinationText(d: Destination, ownHosts: ReadonlySet<string>): string {
  const own = ownHosts.has(shortHost(d.host));
  const port = d.port?.number !== undefined ? `:${d.port.number}` : '';
  if (d.subset) return own && !port ? d.subset : `${shortHost(d.host)}${port} ${d.subset}`;
  return `${shortHost(d.host)}${port}`;
}

function routeText(route: readonly RouteDestination[] | undefined, ownHosts: ReadonlySet<string>): string {
  if (!route || route.length === 0) return 'nowhere';
  if (route.length === 1) return destinationText(route[0]!.destination, ownHosts);
  return route.map((r) => `${r.weight ?? 0}% ${destinationText(r.destination, ownHosts)}`).join(', ');
}

const percentOf = (f: { percentage?: { value?: number }; percent?: number }) =>
  f.percentage?.value ?? f.percent ?? 100;

/** What a rule does besides picking destinations, in a short parenthesis. */
function extras(rule: HttpRoute, ownHosts: ReadonlySet<string>): string {
  const out: string[] = [];
  if (rule.fault?.delay)
    out.push(`delay ${rule.fault.delay.fixedDelay ?? '?'} for ${percentOf(rule.fault.delay)}%`);
  if (rule.fault?.abort)
    out.push(`abort with ${rule.fault.abort.httpStatus ?? '?'} for ${percentOf(rule.fault.abort)}%`);
  if (rule.timeout) out.push(`timeout ${rule.timeout}`);
  if (rule.retries?.attempts !== undefined) out.push(`${rule.retries.attempts} retries`);
  if (rule.rewrite?.uri) out.push(`path rewritten to ${rule.rewrite.uri}`);
  if (rule.mirror) out.push(`mirrored to ${destinationText(rule.mirror, ownHosts)}`);
  return out.length > 0 ? ` (${out.join(', ')})` : '';
}

function httpRuleText(rule: HttpRoute, isFallback: boolean, ownHosts: ReadonlySet<string>): string {
  const who =
    rule.match && rule.match.length > 0
      ? rule.match.map(matchText).join(' or ')
      : isFallback
        ? 'everyone else'
        : 'everyone';
  let target: string;
  if (rule.redirect) target = `redirect to ${rule.redirect.authority ?? ''}${rule.redirect.uri ?? ''}`;
  else if (rule.directResponse) target = `answer ${rule.directResponse.status ?? ''} directly`;
  else if (rule.delegate)
    target = `delegated to ${rule.delegate.namespace ?? ''}/${rule.delegate.name ?? ''}`;
  else target = routeText(rule.route, ownHosts);
  // A single unconditional weighted rule reads best without "everyone →": "50% v1, 50% v3".
  if (who === 'everyone' && (rule.route?.length ?? 0) > 1) return `${target}${extras(rule, ownHosts)}`;
  return `${who} → ${target}${extras(rule, ownHosts)}`;
}

function l4RuleText(kind: 'tcp' | 'tls', rule: L4Route, ownHosts: ReadonlySet<string>): string {
  const when = (rule.match ?? [])
    .map((m) =>
      [
        m.port !== undefined ? `port ${m.port}` : '',
        m.sniHosts?.length ? `SNI ${m.sniHosts.join(' or ')}` : '',
        m.destinationSubnets?.length ? `to ${m.destinationSubnets.join(' or ')}` : '',
      ]
        .filter(Boolean)
        .join(' and '),
    )
    .filter(Boolean)
    .join(' or ');
  return `${kind}${when ? ` ${when}` : ''} → ${routeText(rule.route, ownHosts)}`;
}

/** The rules of one VirtualService in words: "end-user jason → v2, everyone else → v3". */
export function describeRules(spec: VirtualServiceSpec): string {
  const ownHosts = new Set((spec.hosts ?? []).map(shortHost));
  const http = spec.http ?? [];
  const rules = [
    ...http.map((r, i) => httpRuleText(r, i > 0 && http.slice(0, i).some((p) => p.match?.length), ownHosts)),
    ...(spec.tcp ?? []).map((r) => l4RuleText('tcp', r, ownHosts)),
    ...(spec.tls ?? []).map((r) => l4RuleText('tls', r, ownHosts)),
  ];
  const via = spec.gateways?.length ? `on ${spec.gateways.join(', ')}: ` : '';
  return `${via}${rules.length > 0 ? rules.join(', ') : 'no routes'}`;
}

/** One line for one VirtualService: "reviews: 50% v1, 50% v3". */
export const describeVirtualService = (name: string, spec: VirtualServiceSpec): string =>
  `${name}: ${describeRules(spec)}`;

/** "reviews: everyone → v1  ⇒  everyone → v3" for each change, the way the approval message states the effect. */
export function effectLines(changes: readonly Change[]): string[] {
  return changes.map((c) => {
    const before = c.before ? describeRules(c.before) : '(no VirtualService)';
    const after = c.after ? describeRules(c.after) : '(deleted)';
    return `*${c.ref.name}*: ${before}  ⇒  ${after}`;
  });
}
