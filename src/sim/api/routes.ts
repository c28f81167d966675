// Parses an apiserver URL path into what it addresses.

export type Route =
  | { kind: 'version' }
  | { kind: 'health' }
  | { kind: 'api' }
  | { kind: 'apis' }
  | { kind: 'group'; group: string }
  | { kind: 'groupVersion'; group: string; version: string }
  | ResourceRoute
  | { kind: 'unknown' };

export interface ResourceRoute {
  kind: 'resource';
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** What follows `services/{name}/proxy/`, passed on to the Service as its own path. */
  proxyPath?: string;
}

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [root, ...rest] = parts;
  if (pathname === '/version' || pathname === '/version/') return { kind: 'version' };
  if (['/healthz', '/livez', '/readyz'].includes(pathname)) return { kind: 'health' };
  let group: string;
  let version: string | undefined;
  let tail: string[];
  if (root === 'api') {
    if (rest.length === 0) return { kind: 'api' };
    group = '';
    [version, ...tail] = rest;
  } else if (root === 'apis') {
    if (rest.length === 0) return { kind: 'apis' };
    const [g, v, ...t] = rest;
    if (v === undefined) return { kind: 'group', group: g! };
    group = g!;
    version = v;
    tail = t;
  } else {
    return { kind: 'unknown' };
  }
  if (version === undefined) return { kind: 'unknown' };
  if (tail.length === 0) return { kind: 'groupVersion', group, version };
  const base = { kind: 'resource' as const, group, version };
  // /namespaces/{ns}/{resource}[/{name}[/{subresource}]] addresses namespaced objects;
  // /namespaces and /namespaces/{name}[/status] address Namespace objects themselves.
  if (tail[0] === 'namespaces' && tail.length >= 3) {
    const [, namespace, resource, name, subresource, ...extra] = tail;
    if (resource === 'services' && subresource === 'proxy')
      return { ...base, namespace, resource, name, subresource, proxyPath: `/${extra.join('/')}` };
    if (extra.length > 0) return { kind: 'unknown' };
    return { ...base, namespace, resource: resource!, name, subresource };
  }
  const [resource, name, subresource, ...extra] = tail;
  if (extra.length > 0) return { kind: 'unknown' };
  return { ...base, resource: resource!, name, subresource };
}
