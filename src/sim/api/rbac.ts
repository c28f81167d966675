// RBAC authorization as kube-apiserver's RBAC authorizer decides it (plugin/pkg/auth/authorizer/rbac and
// pkg/apis/rbac/v1/evaluation_helpers.go): a request is allowed when a rule of a role bound to the user
// matches it. ClusterRoleBindings grant everywhere; RoleBindings only in their own namespace. No deny rules.

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

export interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: PolicyRule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

export interface ResourceAttributes {
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface ServiceAccountUser {
  namespace: string;
  name: string;
}

const has = (list: readonly string[] | undefined, value: string) =>
  !!list && (list.includes('*') || list.includes(value));

function ruleAllows(rule: PolicyRule, a: ResourceAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!has(rule.apiGroups, a.group ?? '')) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk =
    !!rule.resources &&
    rule.resources.some(
      (r) => r === '*' || r === combined || (a.subresource !== undefined && r === `*/${a.subresource}`),
    );
  if (!resourceOk) return false;
  if (!rule.resourceNames || rule.resourceNames.length === 0) return true;
  return a.name !== undefined && rule.resourceNames.includes(a.name);
}

function bindsUser(binding: RbacObject, user: ServiceAccountUser): boolean {
  return (binding.subjects ?? []).some(
    (s) =>
      (s.kind === 'ServiceAccount' && s.name === user.name && s.namespace === user.namespace) ||
      (s.kind === 'Group' &&
        [
          'system:authenticated',
          'system:serviceaccounts',
          `system:serviceaccounts:${user.namespace}`,
        ].includes(s.name)) ||
      (s.kind === 'User' && s.name === `system:serviceaccount:${user.namespace}:${user.name}`),
  );
}

export function authorize(
  objects: readonly RbacObject[],
  user: ServiceAccountUser,
  a: ResourceAttributes,
): boolean {
  const role = (kind: string, name: string, namespace?: string) =>
    objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata.name === name &&
        (kind === 'ClusterRole' || o.metadata.namespace === namespace),
    );
  for (const binding of objects) {
    if (binding.kind !== 'ClusterRoleBinding' && binding.kind !== 'RoleBinding') continue;
    if (!binding.roleRef || !bindsUser(binding, user)) continue;
    if (binding.kind === 'RoleBinding' && binding.metadata.namespace !== a.namespace) continue;
    const granted = role(binding.roleRef.kind, binding.roleRef.name, binding.metadata.namespace);
    if (granted?.rules?.some((r) => ruleAllows(r, a))) return true;
  }
  return false;
}
