import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, onPath } from '../../src/demo/redis.ts';
import { waitFor } from './wait.ts';

/** Debian's redis-sentinel, or redis-server in Sentinel mode ("both ways work the same", redis.io). */
export const sentinelAvailable = Boolean(onPath('redis-server'));

export interface SentinelLab {
  readonly name: string;
  readonly sentinels: { host: string; port: number }[];
  /** `host:port,…` for REDIS_SENTINELS. */
  readonly sentinelList: string;
  readonly password: string;
  masterPort(): Promise<number>;
  /** kill -9 the current master; resolves with its port. */
  killMaster(): Promise<number>;
  /** Resolves once the Sentinels name a master other than `oldPort` and it accepts writes. */
  failedOver(oldPort: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * A master, one replica and three Sentinels, all real processes on free loopback ports in a temp dir,
 * password-protected like the manifests' Redis. Failover takes about 3 s (down-after 1 s + election).
 */
export async function startSentinelLab(options: { name?: string } = {}): Promise<SentinelLab> {
  const name = options.name ?? 'meshops';
  const password = 'lab-redis-password-0123';
  const dir = mkdtempSync(join(tmpdir(), 'meshops-sentinel-'));
  const children = new Map<number, ChildProcess>();
  const serverBinary = onPath('redis-server')!;
  const sentinelBinary = onPath('redis-sentinel');

  const startServer = async (port: number, extra: string[]) => {
    const data = join(dir, `r${port}`);
    mkdirSync(data);
    const child = spawn(
      serverBinary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        data,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--maxmemory',
        '64mb',
        '--maxmemory-policy',
        'noeviction',
        '--requirepass',
        password,
        '--masterauth',
        password,
        ...extra,
      ],
      { stdio: 'ignore' },
    );
    children.set(port, child);
    const probe = new Redis({ port, password, lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => {});
    await waitFor(`redis-server on ${port}`, () =>
      probe
        .connect()
        .then(() => probe.ping())
        .then((r) => r === 'PONG')
        .catch(() => false)
        .finally(() => probe.disconnect()),
    );
  };

  const master = await freePort();
  const replica = await freePort();
  await startServer(master, []);
  await startServer(replica, ['--replicaof', '127.0.0.1', String(master)]);
  const replicaClient = new Redis({ port: replica, password });
  await waitFor('the replica to sync', async () =>
    /master_link_status:up/.test(await replicaClient.info('replication')),
  );
  replicaClient.disconnect();

  const sentinels: { host: string; port: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    // Sentinel rewrites its file, so each one gets its own writable copy.
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${master} 2`,
        `sentinel auth-pass ${name} ${password}`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const child = sentinelBinary
      ? spawn(sentinelBinary, [conf], { stdio: 'ignore' })
      : spawn(serverBinary, [conf, '--sentinel'], { stdio: 'ignore' });
    children.set(port, child);
    sentinels.push({ host: '127.0.0.1', port });
  }
  const ask = async <T>(fn: (s: Redis) => Promise<T>): Promise<T> => {
    for (const s of sentinels) {
      const client = new Redis({ port: s.port, lazyConnect: true, retryStrategy: () => null });
      client.on('error', () => {});
      try {
        await client.connect();
        return await fn(client);
      } catch {
      } finally {
        client.disconnect();
      }
    }
    throw new Error('no Sentinel answered');
  };
  await waitFor(
    'the Sentinels to agree on the master and see each other and the replica',
    () =>
      ask(async (s) => {
        const quorum = String(await s.call('SENTINEL', 'CKQUORUM', name));
        const replicas = (await s.call('SENTINEL', 'REPLICAS', name)) as unknown[];
        return quorum.startsWith('OK 3 usable') && replicas.length === 1;
      }).catch(() => false),
    30_000,
  );

  const masterPort = async () =>
    Number(((await ask((s) => s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name))) as string[])[1]);

  return {
    name,
    sentinels,
    sentinelList: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
    password,
    masterPort,
    async killMaster() {
      const port = await masterPort();
      const child = children.get(port)!;
      child.kill('SIGKILL');
      await exited(child);
      return port;
    },
    async failedOver(oldPort, timeoutMs = 30_000) {
      return waitFor(
        'the Sentinels to promote the replica',
        async () => {
          const port = await masterPort().catch(() => oldPort);
          if (port === oldPort) return undefined;
          const client = new Redis({ port, password, lazyConnect: true, retryStrategy: () => null });
          client.on('error', () => {});
          try {
            await client.connect();
            return /role:master/.test(await client.info('replication')) ? port : undefined;
          } catch {
            return undefined;
          } finally {
            client.disconnect();
          }
        },
        timeoutMs,
      );
    },
    async stop() {
      for (const child of children.values()) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited(child);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
