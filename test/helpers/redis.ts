import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { type Audit, createAudit } from '../../src/access/audit.ts';
import { clearPrefix } from '../../src/demo/redis.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test or deployment uses, so tests run in parallel on one Redis. */
export function uniquePrefix(label: string): string {
  return `mtest-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes only the keys under `prefix`: never flush what the test did not create. */
export function dropPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  return clearPrefix(url, prefix);
}

/** The audit log of the meshops under `prefix`, read as `/mesh audit` reads it; disconnect `redis` when done. */
export function auditOf(prefix: string): { redis: Redis; audit: Audit } {
  const redis = new Redis(REDIS_URL);
  const audit = createAudit({
    redis,
    prefix,
    retentionMs: 86_400_000,
    maxEntries: 100_000,
    log: pino({ level: 'silent' }),
  });
  return { redis, audit };
}
