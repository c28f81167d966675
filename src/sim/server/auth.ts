// Who a bearer token is, and what RBAC lets them do on one simulated cluster. Three identities:
// meshops (the scenario's `user`), an administrator in system:masters (the apiserver lets that
// group do anything without asking RBAC: test set-up and kubectl acting as an admin), and the
// istio-remote chart's istio-multi account, whose token the remote secrets carry (pilot's view,
// never meshops'). RBAC is whatever Roles, ClusterRoles and bindings the cluster holds: the shipped
// deploy/rbac files are applied when the scenario is built, and an administrator may add more.

import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Identity, RbacPolicy, type RequestAttributes } from '../api/rbac.ts';
import { RBAC_KINDS } from '../api/resources.ts';
import type { SimCluster } from '../cluster/sim-cluster.ts';
import type { ClusterSpec } from '../scenario/schema.ts';

export const ADMIN: Identity = {
  user: 'kubernetes-admin',
  groups: ['system:masters', 'system:authenticated'],
};
export const ISTIO_MULTI_USER = 'system:serviceaccount:istio-system:istio-multi';

/** A service account's user name and the groups the token authenticator gives it. */
export function serviceAccountIdentity(user: string): Identity {
  const ns = /^system:serviceaccount:([^:]+):/.exec(user)?.[1];
  return {
    user,
    groups: [
      ...(ns ? ['system:serviceaccounts', `system:serviceaccounts:${ns}`] : []),
      'system:authenticated',
    ],
  };
}

const DEPLOY_RBAC = new URL('../../../deploy/rbac/', import.meta.url);

/**
 * The shipped RBAC a cluster of this role gets: common.yaml everywhere, primary.yaml on the primary,
 * remote-repair.yaml on remotes (the optional file `/mesh repair drift` needs).
 */
export function shippedRbac(role: ClusterSpec['role']): string[] {
  const files = ['common.yaml', role === 'primary' ? 'primary.yaml' : 'remote-repair.yaml'];
  return files.map((f) => readFileSync(new URL(f, DEPLOY_RBAC), 'utf8'));
}

/** The istio-remote chart's ClusterRole istio-reader for istio-multi (templates/clusterrole.yaml at 1.0.2). */
export const ISTIO_READER = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: istio-reader }
rules:
  - apiGroups: [""]
    resources: [nodes, pods, services, endpoints]
    verbs: [get, watch, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: istio-multi }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: istio-reader }
subjects: [{ kind: ServiceAccount, name: istio-multi, namespace: istio-system }]
`;

export interface ClusterAuthOptions {
  /** false: RBAC is off and every token may do anything. */
  enforce: boolean;
  /**
   * The shipped files, when the cluster runs them: every request meshops makes is then noted in
   * `usageDir` (one JSON line per distinct request, allowed or not, and whether the shipped files alone
   * allow it), for the test that compares the suite's use with the grants.
   */
  shipped?: readonly string[];
  usageDir?: string;
}

export class ClusterAuth {
  readonly #tokens: Map<string, Identity>;
  readonly #meshops: Identity;
  readonly #cluster: SimCluster;
  readonly #enforce: boolean;
  readonly #shipped: RbacPolicy | undefined;
  readonly #usageFile: string | undefined;
  readonly #noted = new Set<string>();
  #policy: RbacPolicy | undefined;

  constructor(
    cluster: SimCluster,
    tokens: { meshops: string; admin: string; istioMulti: string },
    options: ClusterAuthOptions,
  ) {
    this.#cluster = cluster;
    this.#enforce = options.enforce;
    this.#meshops = serviceAccountIdentity(cluster.spec.user);
    this.#tokens = new Map([
      [tokens.meshops, this.#meshops],
      [tokens.admin, ADMIN],
      [tokens.istioMulti, serviceAccountIdentity(ISTIO_MULTI_USER)],
    ]);
    this.#shipped = options.shipped ? RbacPolicy.fromYaml(options.shipped) : undefined;
    if (options.shipped && options.usageDir) {
      mkdirSync(options.usageDir, { recursive: true });
      this.#usageFile = join(options.usageDir, `${process.pid}-${cluster.name}.jsonl`);
    }
    // The policy is the cluster's RBAC objects: rebuilt after any of them changes.
    cluster.store.onChange((event) => {
      if (event.key.endsWith('.rbac.authorization.k8s.io')) this.#policy = undefined;
    });
  }

  /** The identity behind `Authorization: Bearer …`; meshops' token is refused while revoked. */
  authenticate(header: string | undefined, meshopsRevoked: boolean): Identity | undefined {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const who = token === undefined ? undefined : this.#tokens.get(token);
    if (who === this.#meshops && meshopsRevoked) return undefined;
    return who;
  }

  /** A new bearer token for meshops' ServiceAccount; the old one is refused from now on. */
  rotateMeshopsToken(): string {
    for (const [token, who] of this.#tokens) if (who === this.#meshops) this.#tokens.delete(token);
    const token = randomBytes(24).toString('hex');
    this.#tokens.set(token, this.#meshops);
    return token;
  }

  /** A request meshops makes, decided and noted for the grants-vs-use comparison. */
  authorize(who: Identity, a: RequestAttributes): boolean {
    const allowed = this.allows(who, a);
    if (who === this.#meshops) this.#note(a, allowed);
    return allowed;
  }

  /** The decision alone, as a SelfSubjectAccessReview asks for it: nothing is noted as used. */
  allows(who: Identity, a: RequestAttributes): boolean {
    if (!this.#enforce || who.groups.includes('system:masters')) return true;
    // Stored built-in objects carry no kind: it comes from the resource they are listed from.
    this.#policy ??= RbacPolicy.fromObjects(
      RBAC_KINDS.flatMap((kind) => {
        const type = this.#cluster.registry.byKind(kind)!;
        return this.#cluster.list(type.resource, undefined, type.group).map((o) => ({ ...o, kind }));
      }),
    );
    return this.#policy.allows(who, a);
  }

  #note(a: RequestAttributes, allowed: boolean): void {
    if (!this.#usageFile || !this.#shipped) return;
    const line = JSON.stringify({
      allowed,
      shipped: this.#shipped.allows(this.#meshops, a),
      role: this.#cluster.spec.role,
      verb: a.verb,
      group: a.group,
      resource: a.subresource ? `${a.resource}/${a.subresource}` : a.resource,
      ...(a.namespace !== undefined ? { namespace: a.namespace } : {}),
      ...(a.name !== undefined ? { name: a.name } : {}),
    });
    if (this.#noted.has(line)) return;
    this.#noted.add(line);
    appendFileSync(this.#usageFile, `${line}\n`);
  }
}
