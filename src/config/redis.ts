/**
 * Where meshops' Redis is, from the environment: one server (`REDIS_URL=redis://…`) or a Sentinel-managed
 * master group (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`, or `REDIS_URL=redis+sentinel://h1:26379,h2:26379/name`).
 * Plain data: the queue layer turns it into client options.
 */
export interface HostPort {
  host: string;
  port: number;
}

export interface RedisTarget {
  mode: 'standalone' | 'sentinel';
  /** The server (standalone) or the Sentinels to ask for the master (sentinel). */
  nodes: HostPort[];
  /** The Sentinel master group name. */
  name?: string;
  db: number;
  username?: string;
  password?: string;
  /** Sentinels' own `requirepass`, when they have one. */
  sentinelPassword?: string;
  tls: boolean;
  /** PEM file of the CA that signed the Redis (and Sentinel) server certificates. */
  tlsCa?: string;
}

export interface RedisEnv {
  REDIS_URL: string;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_TLS_CA?: string | undefined;
}

/** A problem in the Redis settings; the message names the variable and never echoes a password. */
export class RedisSettingsError extends Error {}

function hostPorts(list: string, variable: string, defaultPort: number): HostPort[] {
  const nodes = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(item);
      const port = m?.[2] ? Number(m[2]) : defaultPort;
      if (!m || port < 1 || port > 65535)
        throw new RedisSettingsError(`${variable}: "${item}" is not host:port (e.g. redis-sentinel-0:26379)`);
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
    });
  if (nodes.length === 0) throw new RedisSettingsError(`${variable}: lists no host:port`);
  return nodes;
}

const SENTINEL_URL =
  /^(rediss?)\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)\/([^/]+)(?:\/(\d+))?\/?$/;

function dbOf(path: string): number {
  const db = path.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db))
    throw new RedisSettingsError('REDIS_URL: the path must be a database index such as /0');
  return db === '' ? 0 : Number(db);
}

export function redisTarget(env: RedisEnv): RedisTarget {
  const decode = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);
  let target: RedisTarget;
  const sentinelUrl = SENTINEL_URL.exec(env.REDIS_URL);
  if (sentinelUrl) {
    if (env.REDIS_SENTINELS)
      throw new RedisSettingsError('REDIS_SENTINELS: set it or a redis+sentinel:// REDIS_URL, not both');
    target = {
      mode: 'sentinel',
      nodes: hostPorts(sentinelUrl[4]!, 'REDIS_URL', 26379),
      name: decodeURIComponent(sentinelUrl[5]!),
      db: sentinelUrl[6] ? Number(sentinelUrl[6]) : 0,
      tls: sentinelUrl[1] === 'rediss',
      ...strip({ username: decode(sentinelUrl[2]), password: decode(sentinelUrl[3]) }),
    };
  } else {
    let u: URL;
    try {
      u = new URL(env.REDIS_URL);
    } catch {
      throw new RedisSettingsError(
        'REDIS_URL: must be a redis://, rediss:// or redis+sentinel://host:26379,…/master-name URL',
      );
    }
    if (!/^rediss?:$/.test(u.protocol))
      throw new RedisSettingsError('REDIS_URL: must use redis://, rediss:// or redis+sentinel://');
    const tls = u.protocol === 'rediss:';
    const auth = strip({ username: decode(u.username), password: decode(u.password) });
    if (env.REDIS_SENTINELS) {
      // REDIS_URL then only carries what the master needs besides its address: db, credentials, TLS.
      target = {
        mode: 'sentinel',
        nodes: hostPorts(env.REDIS_SENTINELS, 'REDIS_SENTINELS', 26379),
        db: dbOf(u.pathname),
        tls,
        ...auth,
      };
      if (env.REDIS_SENTINEL_NAME) target.name = env.REDIS_SENTINEL_NAME;
    } else {
      target = {
        mode: 'standalone',
        nodes: [{ host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 6379 }],
        db: dbOf(u.pathname),
        tls,
        ...auth,
      };
    }
  }
  if (target.mode === 'sentinel' && !target.name)
    throw new RedisSettingsError(
      'REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master group name in sentinel.conf, e.g. mymaster)',
    );
  if (target.mode === 'standalone' && env.REDIS_SENTINEL_NAME)
    throw new RedisSettingsError('REDIS_SENTINEL_NAME: is set but REDIS_SENTINELS is not');
  if (env.REDIS_PASSWORD) target.password = env.REDIS_PASSWORD;
  if (env.REDIS_SENTINEL_PASSWORD) target.sentinelPassword = env.REDIS_SENTINEL_PASSWORD;
  if (env.REDIS_TLS_CA) {
    target.tls = true;
    target.tlsCa = env.REDIS_TLS_CA;
  }
  return target;
}

function strip<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as {
    [K in keyof T]?: string;
  };
}

/** How a target is named in logs and reports: addresses and the group, never a password. */
export function describeTarget(target: RedisTarget): string {
  const nodes = target.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  return target.mode === 'sentinel'
    ? `Sentinel master group "${target.name}" via ${nodes} (db ${target.db}${target.tls ? ', TLS' : ''})`
    : `${nodes} (db ${target.db}${target.tls ? ', TLS' : ''})`;
}
