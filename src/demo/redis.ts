import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';

export interface DemoRedis {
  url: string;
  /** Set when the demo started its own redis-server, which `stop()` ends. */
  privateServer?: { pid: number; port: number };
  stop(): Promise<void>;
}

/** No Redis to use: the message says what to run. */
export class RedisUnavailableError extends Error {}

/** True when a Redis answers PING at `url` within a second (no retries, no reconnect loop left behind). */
export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** The executable's path when it is on PATH. */
export function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** A loopback port nothing listens on right now (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startPrivate(binary: string): Promise<DemoRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'meshops-demo-redis-'));
  // Its own process group: Ctrl-C in the terminal must not stop Redis before the bot has drained its jobs.
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited(child);
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new RedisUnavailableError(
        `the private redis-server did not start: ${stderr.trim().split('\n').pop() ?? 'no output'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, privateServer: { pid: child.pid!, port }, stop };
}

/**
 * The Redis the demo uses: `url` when it answers; otherwise a private redis-server on a free port when one is
 * installed; otherwise an error that says how to get one.
 */
export async function resolveRedis(url: string): Promise<DemoRedis> {
  if (await redisAnswers(url)) return { url, stop: async () => {} };
  const binary = onPath('redis-server');
  if (binary) return startPrivate(binary);
  throw new RedisUnavailableError(
    [
      `No Redis answers at ${url}, and redis-server is not installed. Either:`,
      '  docker compose up -d redis          # then run npm run demo again',
      '  sudo apt-get install redis-server   # the demo then starts a private one itself',
      '  REDIS_URL=redis://host:6379 npm run demo',
    ].join('\n'),
  );
}

/**
 * Deletes the demo's own keys (SCAN + DEL under `prefix:`), so a run starts clean: jobs and schedules left by an
 * earlier run point at messages this console never saw. Never touches other keys.
 */
export async function clearPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
