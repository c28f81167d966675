import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.ts';
import { withTimeout } from './producer.ts';

/** What meshops needs of its Redis, and what it found. */
export const MIN_REDIS_VERSION = '6.2.0';

export interface RedisFacts {
  version: string;
  /** `standalone`, `sentinel` (a Sentinel, not a data node) or `cluster`. */
  mode: string;
  clusterEnabled: boolean;
  role: string;
  replicas: number;
  maxmemory: number;
  maxmemoryPolicy: string;
  aof: boolean;
  /** The `save` schedule, '' when RDB snapshots are off, undefined when CONFIG is not allowed. */
  rdbSave?: string | undefined;
}

export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) fields.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return fields;
}

export async function inspectRedis(redis: Redis): Promise<RedisFacts> {
  // INFO, not CONFIG: managed Redis services usually refuse CONFIG but answer INFO.
  const info = parseInfo(await redis.info('everything'));
  let rdbSave: string | undefined;
  try {
    const reply = (await redis.config('GET', 'save')) as string[];
    rdbSave = reply[1] ?? '';
  } catch {
    rdbSave = undefined;
  }
  return {
    version: info.get('redis_version') ?? '0.0.0',
    mode: info.get('redis_mode') ?? 'standalone',
    clusterEnabled: info.get('cluster_enabled') === '1',
    role: info.get('role') ?? 'master',
    replicas: Number(info.get('connected_slaves') ?? 0),
    maxmemory: Number(info.get('maxmemory') ?? 0),
    maxmemoryPolicy: info.get('maxmemory_policy') ?? 'unknown',
    aof: info.get('aof_enabled') === '1',
    rdbSave,
  };
}

function versionAtLeast(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

export interface RedisVerdict {
  /** Reasons meshops refuses this Redis. */
  refused: string[];
  /** Risks an operator should fix, meshops runs anyway. */
  warnings: string[];
}

/** Judges the facts: what refuses start-up and what is only a risk. */
export function judgeRedis(facts: RedisFacts): RedisVerdict {
  const refused: string[] = [];
  const warnings: string[] = [];
  if (facts.clusterEnabled || facts.mode === 'cluster')
    refused.push(
      'Redis Cluster is not supported: BullMQ and meshops run multi-key scripts that need every key on one shard. Use one Redis, or a master with replicas behind Sentinel (REDIS_SENTINELS).',
    );
  if (facts.mode === 'sentinel')
    refused.push(
      'this address is a Sentinel, not a Redis server: set REDIS_SENTINELS and REDIS_SENTINEL_NAME (or a redis+sentinel:// REDIS_URL) instead of REDIS_URL',
    );
  if (!versionAtLeast(facts.version, MIN_REDIS_VERSION))
    refused.push(`Redis ${facts.version} is too old: meshops needs ${MIN_REDIS_VERSION} or newer`);
  if (facts.maxmemoryPolicy !== 'noeviction')
    refused.push(
      `maxmemory-policy is ${facts.maxmemoryPolicy}: it must be noeviction, or Redis silently drops jobs, pending approvals and locks when memory runs out`,
    );
  if (facts.role !== 'master') refused.push(`this Redis is a ${facts.role}, not a master: it refuses writes`);
  if (facts.maxmemory === 0)
    warnings.push(
      'maxmemory is not set: Redis grows until the container or host kills it instead of refusing writes; set it below the memory limit',
    );
  if (!facts.aof && facts.rdbSave === '')
    warnings.push(
      'persistence is off (no AOF, no RDB snapshots): a restart loses approvals, locks and the audit log',
    );
  return { refused, warnings };
}

/** One line for the start-up log and doctor. */
export function describeFacts(facts: RedisFacts): string {
  const persistence = [facts.aof ? 'AOF' : '', facts.rdbSave ? `RDB (save ${facts.rdbSave})` : '']
    .filter(Boolean)
    .join(' + ');
  return [
    `Redis ${facts.version}`,
    facts.role,
    `${facts.replicas} replica${facts.replicas === 1 ? '' : 's'}`,
    `maxmemory-policy ${facts.maxmemoryPolicy}`,
    `maxmemory ${facts.maxmemory === 0 ? 'unset' : `${Math.round(facts.maxmemory / 1048576)} MiB`}`,
    `persistence ${persistence || (facts.rdbSave === undefined && !facts.aof ? 'unknown (CONFIG refused)' : 'off')}`,
  ].join(', ');
}

/** Start-up refuses a Redis that cannot keep meshops' promises, with every reason at once. */
export class RedisRefusedError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/**
 * States in the log what Redis meshops found and refuses one it cannot use. A Redis that does not answer in
 * time is not a refusal: /readyz reports it, and meshops carries on once it is back.
 */
export async function checkRedisAtStart(
  redis: Redis,
  where: string,
  log: Pick<Logger, 'info' | 'warn'>,
  timeoutMs = 5000,
): Promise<RedisFacts | undefined> {
  let facts: RedisFacts;
  try {
    facts = await withTimeout(inspectRedis(redis), timeoutMs);
  } catch (err) {
    log.warn({ err, redis: where }, 'Redis did not answer at start-up; it was not inspected');
    return undefined;
  }
  const { refused, warnings } = judgeRedis(facts);
  log.info({ redis: where, found: describeFacts(facts) }, 'Redis found');
  for (const warning of warnings) log.warn({ redis: where }, warning);
  if (refused.length > 0) throw new RedisRefusedError(refused.map((r) => `Redis at ${where}: ${r}`));
  return facts;
}
