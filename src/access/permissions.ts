import type { MeshConfig } from '../config/schema.ts';

/** Resolves a Slack user group (S…) to its members; cached by the caller's implementation. */
export type GroupResolver = (groupId: string) => Promise<readonly string[]>;

export interface Permissions {
  isOperator(user: string): Promise<boolean>;
  isApprover(user: string): Promise<boolean>;
  /** When `access.viewers` is set, only those may run read commands; otherwise everyone may. */
  isViewer(user: string): Promise<boolean>;
}

const GROUP_TTL_MS = 5 * 60_000;

export function createPermissions(access: MeshConfig['access'], resolveGroup: GroupResolver): Permissions {
  const cache = new Map<string, { at: number; members: Promise<readonly string[]> }>();

  // Slack rate-limits usergroups.users.list at Tier 2, so memberships are cached for a few minutes.
  function members(group: string): Promise<readonly string[]> {
    const hit = cache.get(group);
    if (hit && Date.now() - hit.at < GROUP_TTL_MS) return hit.members;
    const fresh = resolveGroup(group).catch(() => [] as readonly string[]);
    cache.set(group, { at: Date.now(), members: fresh });
    return fresh;
  }

  async function inList(list: readonly string[], user: string): Promise<boolean> {
    if (list.includes(user)) return true;
    for (const entry of list) {
      if (entry.startsWith('S') && (await members(entry)).includes(user)) return true;
    }
    return false;
  }

  return {
    isOperator: (user) => inList(access.operators, user),
    isApprover: (user) => inList(access.approvers, user),
    isViewer: async (user) =>
      access.viewers === undefined ||
      (await inList(access.viewers, user)) ||
      (await inList(access.operators, user)) ||
      (await inList(access.approvers, user)),
  };
}
