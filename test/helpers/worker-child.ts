// A worker in its own process, so a test can SIGKILL it mid-job. Settings arrive as one JSON argument.
import { parseEnv } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startMeshops } from '../../src/runtime.ts';

const settings = JSON.parse(process.argv[2]!) as {
  env: Record<string, string>;
  configYaml: string;
  dir: string;
};
const env = parseEnv(settings.env, 'worker');
await startMeshops({
  role: 'worker',
  env,
  config: parseConfig(settings.configYaml, `${settings.dir}/meshops.yaml`, settings.dir),
  host: '127.0.0.1',
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
});
process.stdout.write('worker-ready\n');
