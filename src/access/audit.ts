import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.ts';
import { metrics } from '../observability/metrics.ts';

/**
 * The audit trail: every request, approval, rejection, expiry, refusal, apply and rollback, appended to one
 * Redis stream (`<prefix>:audit`) and logged. Entries are never edited; entries older than `audit.retention`
 * are trimmed on each append (XADD MINID), so the stream holds exactly the retention window.
 */

export const AUDIT_ACTIONS = [
  'requested',
  'approved',
  'rejected',
  'withdrawn',
  'expired',
  'refused',
  'applied',
  'failed',
  // After an applied routing change: the verification window's verdict, and meshops' own revert.
  'verified',
  'reverted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  action: AuditAction;
  /** Slack user id of who acted, or "meshops" for what meshops did by itself (expiry). */
  who: string;
  /** The change kind (e.g. "routing") or the command that was refused. */
  kind: string;
  /** What the change is, in the words users type: a preset name, "rollback", a command. */
  subject: string;
  request?: string;
  planHash?: string;
  diff?: string;
  /** One line: the outcome or the reason for a refusal. */
  result: string;
}

export interface StoredAuditEntry extends AuditEntry {
  id: string;
  at: number;
}

export interface Audit {
  record(entry: AuditEntry): Promise<string>;
  latest(n: number): Promise<StoredAuditEntry[]>;
}

// A diff is kept whole up to this size; beyond it the entry says how much was left out.
const MAX_DIFF = 16_000;

export function createAudit(deps: {
  redis: Redis;
  prefix: string;
  retentionMs: number;
  /** The stream keeps at most this many entries (audit.maxEntries), whatever their age. */
  maxEntries: number;
  log: Logger;
}): Audit {
  const key = `${deps.prefix}:audit`;
  return {
    async record(entry) {
      const now = Date.now();
      const diff =
        entry.diff && entry.diff.length > MAX_DIFF
          ? `${entry.diff.slice(0, MAX_DIFF)}\n…(+${entry.diff.length - MAX_DIFF} chars not kept)`
          : entry.diff;
      const fields: string[] = [];
      for (const [k, v] of Object.entries({ ...entry, diff })) if (v !== undefined) fields.push(k, String(v));
      // XADD trims by one strategy only: age there, length in the same transaction.
      const results = await deps.redis
        .multi()
        .xadd(key, 'MINID', '=', String(now - deps.retentionMs), '*', ...fields)
        .xtrim(key, 'MAXLEN', '=', deps.maxEntries)
        .exec();
      const [err, id] = results?.[0] ?? [new Error('the audit write was not executed'), null];
      if (err) throw err;
      deps.log.info({ audit: { id, ...entry, diff: undefined } }, `audit: ${entry.action} ${entry.subject}`);
      metrics.auditEntries.inc({
        action: entry.action,
        kind: entry.kind === 'command' ? 'command' : 'change',
      });
      return id as string;
    },
    async latest(n) {
      const rows = await deps.redis.xrevrange(key, '+', '-', 'COUNT', n);
      return rows.map(([id, flat]) => {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
        return {
          id,
          at: Number(id.split('-')[0]),
          action: f.action as AuditAction,
          who: f.who ?? '',
          kind: f.kind ?? '',
          subject: f.subject ?? '',
          result: f.result ?? '',
          ...(f.request ? { request: f.request } : {}),
          ...(f.planHash ? { planHash: f.planHash } : {}),
          ...(f.diff ? { diff: f.diff } : {}),
        };
      });
    },
  };
}

/** The audit trail of a deployment, as its config sets the retention. */
export const auditOf = (deps: {
  redis: Redis;
  prefix: string;
  config: { audit: { retention: number; maxEntries: number } };
  log: Logger;
}): Audit =>
  createAudit({
    redis: deps.redis,
    prefix: deps.prefix,
    retentionMs: deps.config.audit.retention,
    maxEntries: deps.config.audit.maxEntries,
    log: deps.log,
  });
