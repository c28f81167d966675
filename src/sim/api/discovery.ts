// Legacy (non-aggregated) discovery documents. kubectl 1.32 first asks for aggregated
// discovery, and falls back to these per-group-version lists when the answer is plain
// APIVersions/APIGroupList JSON.

import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.ts';

export function versionInfo(gitVersion: string) {
  const [major, minor] = gitVersion.replace(/^v/, '').split('.');
  return {
    major: major ?? '1',
    minor: minor ?? '32',
    gitVersion,
    gitCommit: '0f4f6de2c9ea8bd10c66c3b0c0f7a9d6c6a53c0e',
    gitTreeState: 'clean',
    buildDate: '2025-04-22T16:03:03Z',
    goVersion: 'go1.23.8',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groups(registry: ResourceRegistry): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const t of registry.all) if (t.group && !out.has(t.group)) out.set(t.group, t.versions);
  return out;
}

function groupDoc(name: string, versions: readonly string[]) {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function apiGroupList(registry: ResourceRegistry) {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups(registry)].map(([name, versions]) => groupDoc(name, versions)),
  };
}

export function apiGroup(registry: ResourceRegistry, name: string) {
  const versions = groups(registry).get(name);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name, versions) } : undefined;
}

function resourceEntries(t: ResourceType) {
  const main = {
    name: t.resource,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.verbs,
    ...(t.shortNames ? { shortNames: t.shortNames } : {}),
    ...(t.categories ? { categories: t.categories } : {}),
  };
  const subs = (t.subresources ?? []).map((s) => ({
    name: `${t.resource}/${s.name}`,
    singularName: '',
    namespaced: t.namespaced,
    ...(s.group !== undefined ? { group: s.group, version: s.version } : {}),
    kind: s.kind,
    verbs: s.verbs,
  }));
  return [main, ...subs];
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string) {
  const types = registry.all.filter((t) => t.group === group && t.versions.includes(version));
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    ...(group ? { apiVersion: 'v1' } : {}),
    groupVersion: apiVersionOf(types[0]!, version),
    resources: types.flatMap(resourceEntries),
  };
}
