import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Connection options from REDIS_URL (db index honoured). BullMQ's key prefix is set on queues and workers,
 * never as ioredis keyPrefix, which BullMQ refuses.
 */
export function redisOptions(url: string): RedisOptions & BullRedisOptions {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    db: db === '' ? 0 : Number(db),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The app must answer Slack within 3 s, so its commands fail fast instead of queueing while Redis is away. */
export function producerConnection(url: string): BullRedisOptions {
  return { ...redisOptions(url), enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 };
}

/** Workers block on Redis and must wait it out; BullMQ requires maxRetriesPerRequest: null here. */
export function workerConnection(url: string): BullRedisOptions {
  return { ...redisOptions(url), maxRetriesPerRequest: null };
}

/** A plain client for meshops' own state (approvals, locks, audit, previous runs). */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis({ ...redisOptions(url), maxRetriesPerRequest: 2, ...options });
}
