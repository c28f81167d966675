// meshops in its own process, so a test can SIGKILL it mid-job: a worker, or app and worker (`role: all`).
// Settings arrive as one JSON argument; stall detection is shortened so a test sees a takeover in seconds
// (a test may hold the BullMQ job lock longer, so the job stays locked a while after the kill).
import type { Role } from '../../src/config/env.ts';
import { parseEnv } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startMeshops } from '../../src/runtime.ts';

const settings = JSON.parse(process.argv[2]!) as {
  env: Record<string, string>;
  configYaml: string;
  dir: string;
  role?: Role;
  lockDurationMs?: number;
};
const role = settings.role ?? 'worker';
const env = parseEnv(settings.env, role);
const meshops = await startMeshops({
  role,
  env,
  config: parseConfig(settings.configYaml, `${settings.dir}/meshops.yaml`, settings.dir),
  host: '127.0.0.1',
  lockDurationMs: settings.lockDurationMs ?? 2000,
  stalledIntervalMs: 1000,
});
process.stdout.write(`worker-ready ${meshops.url}\n`);
