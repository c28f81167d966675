import { EnvError, parseEnv, type Role } from './config/env.ts';
import { ConfigError } from './config/load.ts';
import { RedisRefusedError } from './queue/redis-facts.ts';
import { startMeshops } from './runtime.ts';
import { SocketModeAuthError } from './slack/socket/receiver.ts';

const ROLES: readonly Role[] = ['app', 'worker', 'all'];

function fail(lines: string[]): never {
  process.stderr.write(`meshops cannot start:\n${lines.map((l) => `  - ${l}`).join('\n')}\n`);
  process.exit(1);
}

if (process.argv[2] === 'doctor') {
  const { doctorCli } = await import('./doctor/main.ts');
  process.exit(await doctorCli(process.env, (text) => process.stdout.write(text)));
}

if (process.argv[2] === 'rbac') {
  const { rbacCli } = await import('./doctor/rbac-cli.ts');
  process.exit(
    rbacCli(
      process.argv.slice(3),
      process.env,
      (text) => process.stdout.write(text),
      (text) => process.stderr.write(text),
    ),
  );
}

const role = (process.argv[2] ?? 'all') as Role;
if (!ROLES.includes(role))
  fail([`unknown role "${process.argv[2]}": use one of ${ROLES.join(', ')}, or doctor, or rbac`]);

try {
  const env = parseEnv(process.env, role);
  const meshops = await startMeshops({ role, env });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    meshops.log.info({ signal }, 'shutting down');
    void meshops.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  if (err instanceof EnvError || err instanceof ConfigError || err instanceof RedisRefusedError)
    fail(err.problems);
  if (err instanceof SocketModeAuthError) fail([err.message]);
  throw err;
}
