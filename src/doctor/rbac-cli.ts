import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import { renderRbac } from './rbac.ts';

const USAGE =
  'usage: npm run rbac -- --config <meshops config> [--out <dir>]\n' +
  '  prints deploy/rbac with the remote secret names of the config (clusters[].remoteSecret);\n' +
  '  --out writes common.yaml, primary.yaml and remote-repair.yaml into <dir> instead\n';

/** Returns the exit code; writes the manifests (or why it cannot) through `out` / `err`. */
export function rbacCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  let values: { config?: string; out?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { config: { type: 'string' }, out: { type: 'string' } },
      strict: true,
    }));
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const path = values.config ?? env.MESHOPS_CONFIG;
  if (!path) {
    err(`no config: pass --config <file> (or set MESHOPS_CONFIG)\n${USAGE}`);
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(path);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`meshops rbac: the config has problems:\n${e.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  const files = renderRbac(config);
  if (values.out) {
    mkdirSync(values.out, { recursive: true });
    for (const f of files) writeFileSync(join(values.out, f.file), f.text);
    out(`wrote ${files.map((f) => join(values.out!, f.file)).join(', ')}\n`);
    return 0;
  }
  out(files.map((f) => `# ==> deploy/rbac/${f.file} <==\n${f.text}`).join('---\n'));
  return 0;
}
