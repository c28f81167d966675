import type { MeshConfig } from '../config/schema.ts';

/** Resolves a Slack user group (S…) to its members: one `usergroups.users.list` call. */
export type GroupResolver = (groupId: string) => Promise<readonly string[]>;

export interface Permissions {
  isOperator(user: string): Promise<boolean>;
  isApprover(user: string): Promise<boolean>;
  /** When `access.viewers` is set, only those may run read commands; otherwise everyone may. */
  isViewer(user: string): Promise<boolean>;
}

export interface PermissionOptions {
  /** How long a membership is used before it is looked up again (Slack rate-limits the call at Tier 2). */
  ttlMs?: number;
  /**
   * How long a first lookup may hold a decision. A command is acked only after its permission check, and
   * Slack wants the ack within 3 s; a lookup still running after this goes on in the background.
   */
  deadlineMs?: number;
  onLookupFailed?: (group: string, err: unknown) => void;
}

const GROUP_TTL_MS = 5 * 60_000;
const LOOKUP_DEADLINE_MS = 1_000;

interface GroupEntry {
  /** The last membership Slack returned, and when. */
  members?: readonly string[];
  at: number;
  refreshing?: Promise<void>;
}

export function createPermissions(
  access: MeshConfig['access'],
  resolveGroup: GroupResolver,
  options: PermissionOptions = {},
): Permissions {
  const ttl = options.ttlMs ?? GROUP_TTL_MS;
  const deadline = options.deadlineMs ?? LOOKUP_DEADLINE_MS;
  const groups = new Map<string, GroupEntry>();

  // A failed lookup (a 429 included) is never remembered: the last good membership keeps serving, and
  // without one the next check asks again instead of locking people out for the TTL.
  function refresh(group: string, entry: GroupEntry): Promise<void> {
    entry.refreshing ??= resolveGroup(group).then(
      (members) => {
        entry.members = members;
        entry.at = Date.now();
        entry.refreshing = undefined;
      },
      (err: unknown) => {
        entry.refreshing = undefined;
        options.onLookupFailed?.(group, err);
      },
    );
    return entry.refreshing;
  }

  async function members(group: string): Promise<readonly string[]> {
    let entry = groups.get(group);
    if (!entry) {
      entry = { at: 0 };
      groups.set(group, entry);
    }
    if (entry.members && Date.now() - entry.at < ttl) return entry.members;
    const pending = refresh(group, entry);
    // A stale membership answers at once while the refresh runs; only a first lookup is waited for.
    if (entry.members) return entry.members;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pending, new Promise<void>((resolve) => (timer = setTimeout(resolve, deadline)))]);
    clearTimeout(timer);
    return entry.members ?? [];
  }

  // Every group of the lists is looked up at once, so a check waits one deadline at most, however many groups.
  async function inAny(lists: readonly (readonly string[])[], user: string): Promise<boolean> {
    const entries = lists.flat();
    if (entries.includes(user)) return true;
    const groups = [...new Set(entries.filter((e) => e.startsWith('S')))];
    return (await Promise.all(groups.map(members))).some((m) => m.includes(user));
  }

  return {
    isOperator: (user) => inAny([access.operators], user),
    isApprover: (user) => inAny([access.approvers], user),
    isViewer: async (user) =>
      access.viewers === undefined || inAny([access.viewers, access.operators, access.approvers], user),
  };
}
