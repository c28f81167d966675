import type { WebClient } from '@slack/web-api';
import { isUserId } from '../chat/mrkdwn.ts';
import type { UserNames } from '../chat/reply.ts';

// Names change rarely, and users.info is one call per person: an hour keeps a busy worker from asking again.
const NAME_TTL_MS = 60 * 60_000;

export interface UserNameOptions {
  ttlMs?: number;
  onLookupFailed?: (user: string, err: unknown) => void;
}

interface NameEntry {
  name?: string;
  at: number;
  asking?: Promise<string>;
}

/**
 * Slack user ids as people read them, from `users.info` (scope `users:read`): the profile's display name, else
 * the real name. A failed lookup (a 429 included) is never remembered: the last good name keeps serving, and
 * without one the id stands in, until the next use asks again.
 */
export function createUserNames(client: WebClient, options: UserNameOptions = {}): UserNames {
  const ttl = options.ttlMs ?? NAME_TTL_MS;
  const entries = new Map<string, NameEntry>();

  async function lookup(user: string, entry: NameEntry): Promise<string> {
    try {
      const res = await client.users.info({ user });
      const name = res.user?.profile?.display_name || res.user?.profile?.real_name || res.user?.real_name;
      if (!name) throw new Error(`users.info has no name for ${user}`);
      entry.name = name;
      entry.at = Date.now();
      return name;
    } catch (err) {
      options.onLookupFailed?.(user, err);
      return entry.name ?? user;
    } finally {
      entry.asking = undefined;
    }
  }

  return async (user) => {
    if (!isUserId(user)) return user;
    let entry = entries.get(user);
    if (!entry) {
      entry = { at: 0 };
      entries.set(user, entry);
    }
    if (entry.name && Date.now() - entry.at < ttl) return entry.name;
    entry.asking ??= lookup(user, entry);
    return entry.asking;
  };
}
