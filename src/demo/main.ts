import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { EnvError } from '../config/env.ts';
import { ConfigError } from '../config/load.ts';
import { startDemo } from './demo.ts';
import { RedisUnavailableError } from './redis.ts';

const USAGE = `npm run demo [-- --port 3000] [--host 127.0.0.1]

  --port, -p   console port (env DEMO_PORT, default 3000; 0 = any free port)
  --host       console address (env DEMO_HOST, default 127.0.0.1; 0.0.0.0 in a container)
  env REDIS_URL  Redis to use (default redis://127.0.0.1:6379; a private redis-server is started if none answers)
  env DEMO_DIR   where kubeconfigs, config and the bot's log go (default .demo)`;

function fail(message: string): never {
  process.stderr.write(`meshops demo cannot start:\n${message}\n`);
  process.exit(1);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${USAGE}`);
  }
})();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const portText = values.port ?? process.env.DEMO_PORT ?? '3000';
const port = Number(portText);
if (!/^\d+$/.test(portText) || port > 65_535) fail(`port "${portText}" is not a port number (0–65535)`);
const host = values.host ?? process.env.DEMO_HOST ?? '127.0.0.1';
const dir = process.env.DEMO_DIR ?? '.demo';
const started = performance.now();
const say = (line: string) => process.stdout.write(`  ${line}\n`);

process.stdout.write('meshops demo: starting the simulated clusters, Redis, the console and the bot…\n');
const demo = await startDemo({
  port,
  host,
  dir,
  redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  ...(process.env.LOG_LEVEL ? { logLevel: process.env.LOG_LEVEL } : {}),
  say,
}).catch((err: unknown) => {
  if (err instanceof RedisUnavailableError) fail(err.message);
  if (err instanceof ConfigError || err instanceof EnvError) fail(err.problems.join('\n'));
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
    fail(`port ${port} is in use: run npm run demo -- --port ${port + 1} (or set DEMO_PORT)`);
  throw err;
});

const consolePort = new URL(demo.console.url).port;
const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
};
say(`config    ${shown(demo.configPath)}`);
if (demo.logPath) say(`bot log   ${shown(demo.logPath)}`);
process.stdout.write(
  [
    '',
    `Ready in ${((performance.now() - started) / 1000).toFixed(1)} s. Open the console:`,
    '',
    `    http://localhost:${consolePort}/`,
    '',
    'Try, as alice:  /mesh status    /mesh vpn    /mesh route apply reviews-jason-v2-v3',
    'then switch to bob and press Approve; break things with the fault panel and ask again.',
    ...[...demo.sim.clusters.values()]
      .filter((c) => c.role === 'primary')
      .map((c) => `kubectl works too: kubectl --kubeconfig ${shown(c.kubeconfigPath)} get pods -A`),
    'Ctrl-C stops everything.',
    '',
  ].join('\n'),
);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) {
    process.stderr.write('second signal: exiting now\n');
    process.exit(1);
  }
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the bot, the console, the clusters and Redis…\n`);
  void demo.stop().then(() => {
    process.stdout.write('stopped.\n');
    process.exit(0);
  });
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
