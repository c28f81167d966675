import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { type RedisTarget, redisTarget } from '../config/redis.ts';

/**
 * A Redis target, or a plain redis:// URL (tests, the demo). `closing` aborts when meshops stops: BullMQ
 * closes its connections with QUIT, which leaves ioredis' Sentinel subscriptions (the failover detector)
 * reconnecting forever; they give up once it has aborted.
 */
export type RedisLocation = (RedisTarget & { closing?: AbortSignal }) | string;

/**
 * Client options for a target (db index honoured). BullMQ's key prefix is set on queues and workers, never as
 * ioredis keyPrefix, which BullMQ refuses.
 */
export function redisOptions(location: RedisLocation): RedisOptions & BullRedisOptions {
  const { closing, ...target } =
    typeof location === 'string' ? { ...redisTarget({ REDIS_URL: location }), closing: undefined } : location;
  const tls: TlsOptions | undefined = target.tls
    ? target.tlsCa
      ? { ca: readFileSync(target.tlsCa) }
      : {}
    : undefined;
  const common = {
    db: target.db,
    // BullMQ's own test suite runs ioredis 5 (RESP2); ioredis 6 would speak RESP3 by default.
    protocol: 2 as const,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(tls ? { tls } : {}),
  };
  if (target.mode === 'standalone')
    return { ...common, host: target.nodes[0]!.host, port: target.nodes[0]!.port };
  return {
    ...common,
    sentinels: target.nodes,
    name: target.name!,
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    // A master that freezes never closes its sockets: without these a client waits on it forever. The
    // detector follows Sentinel's +switch-master; the socket timeout (above BullMQ's 5 s blocking reads)
    // catches what the detector misses.
    failoverDetector: true,
    sentinelReconnectStrategy: () => (closing?.aborted ? null : 5000),
    socketTimeout: 30_000,
  };
}

/** The app must answer Slack within 3 s, so its commands fail fast instead of queueing while Redis is away. */
export function producerConnection(location: RedisLocation): BullRedisOptions {
  return {
    ...redisOptions(location),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // Every command while disconnected is refused to a person, so reconnect within a second of Redis being
    // back (ioredis 6 backs off up to 5 s by default).
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  };
}

/** Workers block on Redis and must wait it out; BullMQ requires maxRetriesPerRequest: null here. */
export function workerConnection(location: RedisLocation): BullRedisOptions {
  return { ...redisOptions(location), maxRetriesPerRequest: null };
}

/** A plain client for meshops' own state (approvals, locks, audit, previous runs). */
export function createRedis(location: RedisLocation, options: RedisOptions = {}): Redis {
  return new Redis({ ...redisOptions(location), maxRetriesPerRequest: 2, ...options });
}
