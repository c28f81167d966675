// Runs after the whole suite (`npm test`): the simulated clusters noted every request meshops made under
// the shipped deploy/rbac files (MESHOPS_RBAC_USAGE_DIR). Nothing used may be missing from the grants, and
// every grant must have been used, or carry a comment starting "# Not used by the test suite:" that says
// why it is still needed.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isMap, isSeq, parseAllDocuments, type YAMLMap } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import { neededPermissions } from '../../src/doctor/permissions-needed.ts';

interface Use {
  allowed: boolean;
  shipped: boolean;
  role: 'primary' | 'remote';
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

interface Grant {
  file: string;
  role: string;
  /** Undefined for a ClusterRoleBinding: every namespace and the cluster scope. */
  namespace?: string;
  verb: string;
  group: string;
  resource: string;
  name?: string;
  /** Why it stays though the suite never used it. */
  excuse?: string;
}

const EXCUSE = /^\s*Not used by the test suite:\s*(.+)$/m;
const MESHOPS = { kind: 'ServiceAccount', name: 'meshops', namespace: 'meshops-access' };
const FILES: Record<string, Use['role'][]> = {
  'common.yaml': ['primary', 'remote'],
  'primary.yaml': ['primary'],
  'remote-repair.yaml': ['remote'],
};

/** Every (verb, group, resource, name) a file grants meshops, with the binding's namespace. */
function grantsOf(file: string): Grant[] {
  const docs = parseAllDocuments(readFileSync(new URL(`../../deploy/rbac/${file}`, import.meta.url), 'utf8'));
  const roles = new Map<string, { rule: Record<string, string[]>; excuse?: string }[]>();
  const bindings: { namespace?: string; ref: string }[] = [];
  for (const doc of docs) {
    // biome-ignore lint/suspicious/noExplicitAny: RBAC documents walked field by field, shape checked by the schema test
    const o = doc.toJS() as Record<string, any> | null;
    if (!o) continue;
    if (o.kind === 'Role' || o.kind === 'ClusterRole') {
      const seq = (doc.contents as YAMLMap).get('rules', true);
      const items = isSeq(seq) ? seq.items : [];
      roles.set(
        `${o.kind}/${o.kind === 'Role' ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`,
        (o.rules as Record<string, string[]>[]).map((rule, i) => {
          const node = items[i];
          const excuse = isMap(node) ? EXCUSE.exec(node.commentBefore ?? '')?.[1] : undefined;
          return { rule, ...(excuse ? { excuse } : {}) };
        }),
      );
    }
    if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
      const bound = (o.subjects ?? []).some(
        (s: Record<string, string>) =>
          s.kind === MESHOPS.kind && s.name === MESHOPS.name && s.namespace === MESHOPS.namespace,
      );
      if (!bound) continue;
      const ns = o.kind === 'RoleBinding' ? o.metadata.namespace : undefined;
      const ref =
        o.roleRef.kind === 'Role' ? `Role/${ns}/${o.roleRef.name}` : `ClusterRole/${o.roleRef.name}`;
      bindings.push({ ...(ns ? { namespace: ns } : {}), ref });
    }
  }
  return bindings.flatMap((b) =>
    (roles.get(b.ref) ?? []).flatMap(({ rule, excuse }) =>
      rule.verbs!.flatMap((verb) =>
        rule.apiGroups!.flatMap((group) =>
          rule.resources!.flatMap((resource) =>
            (rule.resourceNames ?? [undefined]).map((name) => ({
              file,
              role: b.ref,
              ...(b.namespace ? { namespace: b.namespace } : {}),
              verb,
              group,
              resource,
              ...(name ? { name } : {}),
              ...(excuse ? { excuse } : {}),
            })),
          ),
        ),
      ),
    ),
  );
}

function covers(g: Grant, u: Use): boolean {
  return (
    FILES[g.file]!.includes(u.role) &&
    g.verb === u.verb &&
    g.group === u.group &&
    g.resource === u.resource &&
    (g.namespace === undefined || g.namespace === u.namespace) &&
    (g.name === undefined || g.name === u.name)
  );
}

const show = (x: Omit<Use, 'allowed' | 'shipped'> | Grant) =>
  `${'file' in x ? `${x.file} ${x.role}: ` : `${x.role}: `}${x.verb} ${x.group ? `${x.group}/` : ''}${x.resource}${x.name ? ` "${x.name}"` : ''} ${x.namespace ? `in ${x.namespace}` : 'cluster-wide'}`;

// The seed's clusters as the suite configures them: doctor's list is computed for this config.
const SEED_CONFIG = `clusters:
  - { name: icp, role: primary, inCluster: true, podCidrs: [10.1.0.0/16], serviceCidrs: [10.0.0.0/24] }
  - { name: iks, role: remote, inCluster: true, podCidrs: [172.30.0.0/16], serviceCidrs: [172.21.0.0/16], remoteSecret: iriscluster }
access: { operators: [U0ALICE], approvers: [U0BOB] }
`;

describe('deploy/rbac against what the test suite used', () => {
  const dir = process.env.MESHOPS_RBAC_USAGE_DIR;
  const uses: Use[] = dir
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.jsonl'))
        .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n').filter(Boolean))
        .map((line) => JSON.parse(line) as Use)
    : [];

  it('has a record of the suite (run it with npm test)', () => {
    assert.ok(dir, 'MESHOPS_RBAC_USAGE_DIR is not set: run the suite with npm test');
    assert.ok(uses.length > 0, `no request was noted in ${dir}`);
  });

  it('grants every request meshops made', () => {
    const denied = [...new Set(uses.filter((u) => !u.allowed).map(show))].sort();
    assert.deepEqual(denied, [], 'meshops was refused these under the shipped RBAC');
  });

  // doctor asks each cluster for neededPermissions(): checked here against the same record of use as the
  // grants, so the list doctor checks cannot fall behind what meshops does.
  it('doctor asks for every permission the suite used (src/doctor/permissions-needed.ts)', () => {
    // The suite runs with the seed's secret named and, where it tests the guess, without, and the modern
    // scenario with its own secret and profile: every config counts.
    const modern = `${SEED_CONFIG.replace('remoteSecret: iriscluster', 'remoteSecret: istio-remote-secret-iks')}istio: { profile: modern }\n`;
    const configs = [SEED_CONFIG, SEED_CONFIG.replace(', remoteSecret: iriscluster', ''), modern].map((y) =>
      parseConfig(y, '/x/meshops.yaml', '/x'),
    );
    const needed = new Map<string, ReturnType<typeof neededPermissions>>();
    for (const config of configs)
      for (const c of config.clusters)
        needed.set(c.role, [...(needed.get(c.role) ?? []), ...neededPermissions(config, c)]);
    const missing = uses
      .filter((u) => u.shipped)
      .filter(
        (u) =>
          !(needed.get(u.role) ?? []).some(
            (p) =>
              p.verb === u.verb &&
              p.group === u.group &&
              (p.subresource ? `${p.resource}/${p.subresource}` : p.resource) === u.resource &&
              (p.namespace === undefined || p.namespace === u.namespace) &&
              (p.name === undefined || p.name === u.name),
          ),
      )
      .map(show);
    assert.deepEqual(
      [...new Set(missing)].sort(),
      [],
      'meshops used these, and doctor does not ask for them',
    );
  });

  it('uses every grant, or says why it stays', () => {
    const grants = Object.keys(FILES).flatMap(grantsOf);
    const shippedUses = uses.filter((u) => u.shipped);
    const unused = grants.filter((g) => !g.excuse && !shippedUses.some((u) => covers(g, u))).map(show);
    assert.deepEqual(
      unused,
      [],
      'granted, never used by the suite, and no "Not used by the test suite:" comment',
    );
  });
});
