// The RBAC authorizer as kube-apiserver applies it, written from the Kubernetes RBAC documentation
// (kubernetes.io "Using RBAC Authorization", "Authorization Overview": request verbs) and
// plugin/pkg/auth/authorizer/rbac (rule matching), not from meshops' own code. A request is allowed
// when any rule of any Role or ClusterRole bound to the user allows it; nothing is ever denied
// explicitly. Roles apply in their binding's namespace; a ClusterRole applies everywhere through a
// ClusterRoleBinding, or in one namespace through a RoleBinding.

import { parseAllDocuments } from 'yaml';
import { ApiError } from './status.ts';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: 'ServiceAccount' | 'User' | 'Group';
  name: string;
  namespace?: string;
}

interface Binding {
  /** Undefined for a ClusterRoleBinding. */
  namespace?: string;
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: Subject[];
}

/** What one request asks for, as the apiserver's RequestInfo resolves it. */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface Identity {
  user: string;
  groups: string[];
}

/** The Roles, ClusterRoles and bindings of one cluster. */
export class RbacPolicy {
  readonly #roles = new Map<string, PolicyRule[]>();
  readonly #clusterRoles = new Map<string, PolicyRule[]>();
  readonly #bindings: Binding[] = [];

  /** Reads multi-document YAML; kinds other than the four RBAC ones (Namespace, ServiceAccount) are skipped. */
  static fromYaml(texts: readonly string[]): RbacPolicy {
    return RbacPolicy.fromObjects(rbacObjects(texts));
  }

  static fromObjects(objects: Iterable<Record<string, unknown>>): RbacPolicy {
    const policy = new RbacPolicy();
    for (const object of objects) policy.add(object);
    return policy;
  }

  add(object: Record<string, unknown>): void {
    const kind = object.kind;
    const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string };
    const name = metadata.name ?? '';
    if (kind === 'Role') this.#roles.set(`${metadata.namespace ?? 'default'}/${name}`, rulesOf(object));
    if (kind === 'ClusterRole') this.#clusterRoles.set(name, rulesOf(object));
    if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') {
      this.#bindings.push({
        ...(kind === 'RoleBinding' ? { namespace: metadata.namespace ?? 'default' } : {}),
        roleRef: object.roleRef as Binding['roleRef'],
        subjects: (object.subjects ?? []) as Subject[],
      });
    }
  }

  /** The rules that apply to `who` for a request in `namespace` (undefined: a cluster-scoped request). */
  rulesFor(who: Identity, namespace: string | undefined): PolicyRule[] {
    const out: PolicyRule[] = [];
    for (const b of this.#bindings) {
      if (b.namespace !== undefined && b.namespace !== namespace) continue;
      if (!b.subjects.some((s) => subjectMatches(s, who))) continue;
      const rules =
        b.roleRef.kind === 'Role'
          ? b.namespace !== undefined
            ? this.#roles.get(`${b.namespace}/${b.roleRef.name}`)
            : undefined
          : this.#clusterRoles.get(b.roleRef.name);
      out.push(...(rules ?? []));
    }
    return out;
  }

  allows(who: Identity, a: RequestAttributes): boolean {
    return this.rulesFor(who, a.namespace).some((rule) => ruleAllows(rule, a));
  }

  /** Every (rule, binding namespace) pair bound to `who`: what the grants-vs-use comparison walks. */
  grants(who: Identity): { namespace?: string; rule: PolicyRule }[] {
    const out: { namespace?: string; rule: PolicyRule }[] = [];
    for (const b of this.#bindings) {
      if (!b.subjects.some((s) => subjectMatches(s, who))) continue;
      const rules =
        b.roleRef.kind === 'Role'
          ? this.#roles.get(`${b.namespace ?? ''}/${b.roleRef.name}`)
          : this.#clusterRoles.get(b.roleRef.name);
      for (const rule of rules ?? []) out.push({ ...(b.namespace ? { namespace: b.namespace } : {}), rule });
    }
    return out;
  }
}

const KINDS = ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];

/** The RBAC objects among YAML documents. */
export function rbacObjects(texts: readonly string[]): Record<string, unknown>[] {
  return texts.flatMap((text) =>
    parseAllDocuments(text)
      .map((doc) => doc.toJS() as Record<string, unknown> | null)
      .filter((o): o is Record<string, unknown> => o !== null && KINDS.includes(o.kind as string)),
  );
}

function rulesOf(object: Record<string, unknown>): PolicyRule[] {
  return ((object.rules ?? []) as PolicyRule[]).map((r) => ({ ...r, verbs: r.verbs ?? [] }));
}

function subjectMatches(s: Subject, who: Identity): boolean {
  if (s.kind === 'ServiceAccount') return who.user === `system:serviceaccount:${s.namespace}:${s.name}`;
  if (s.kind === 'User') return who.user === s.name;
  return who.groups.includes(s.name);
}

const has = (list: readonly string[] | undefined, value: string) =>
  (list ?? []).includes('*') || (list ?? []).includes(value);

// One rule against one request: verb, API group, resource (`pods/exec`, or `*/exec` for every
// resource's exec), and the object's name when the rule lists resourceNames.
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!has(rule.apiGroups, a.group)) return false;
  const resources = rule.resources ?? [];
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk =
    resources.includes('*') ||
    resources.includes(combined) ||
    (a.subresource !== undefined && resources.includes(`*/${a.subresource}`));
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== undefined && names.includes(a.name));
}

/**
 * The verb of a resource request (kubernetes.io "Authorization Overview: request verbs"): GET of a
 * named object is get, of a collection list (watch with ?watch); POST create; PUT update; PATCH patch;
 * DELETE of a named object delete, of a collection deletecollection.
 */
export function requestVerb(method: string, named: boolean, query: URLSearchParams): string {
  const watch = ['true', '1'].includes(query.get('watch') ?? '');
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/**
 * A list or watch restricted to one object by `fieldSelector=metadata.name=<name>` is authorized for
 * that name, so a rule with resourceNames can allow it (kubernetes.io RBAC "Referring to resources").
 */
export function nameFromFieldSelector(query: URLSearchParams): string | undefined {
  const selector = query.get('fieldSelector');
  if (!selector) return undefined;
  const terms = selector.split(',').map((t) => t.trim());
  if (terms.length !== 1) return undefined;
  const m = /^metadata\.name==?(.+)$/.exec(terms[0]!);
  return m?.[1];
}

/** The 403 a real apiserver answers (apimachinery errors.NewForbidden with the RBAC reason). */
export function forbidden(user: string, a: RequestAttributes): ApiError {
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : '';
  const scope = a.namespace === undefined ? ' at the cluster scope' : '';
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${a.verb} resource "${resource}" in API group "${a.group}"${where}${scope}`,
    { ...(a.name ? { name: a.name } : {}), ...(a.group ? { group: a.group } : {}), kind: a.resource },
  );
}
