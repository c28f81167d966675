import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { configSchema, type MeshConfig } from './schema.ts';
import { formatIssues } from './strict.ts';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

export interface LoadedConfig extends MeshConfig {
  /** Absolute path of the file, kept for messages ("edit …/meshops.yaml"). */
  readonly path: string;
}

/** Parses config text; relative paths inside resolve against `baseDir` (the config file's folder). */
export function parseConfig(text: string, where: string, baseDir: string): MeshConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const detail = err instanceof YAMLParseError ? err.message.split('\n')[0] : String(err);
    throw new ConfigError([`${where}: not valid YAML: ${detail}`]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([`${where}: expected a mapping with at least a "clusters" list`]);
  }
  const result = configSchema.safeParse(raw, { reportInput: false });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, where));
  const config = result.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...config,
    clusters: config.clusters.map((c) => (c.kubeconfig ? { ...c, kubeconfig: abs(c.kubeconfig) } : c)),
    routing: {
      ...config.routing,
      ...(config.routing.presets ? { presets: abs(config.routing.presets) } : {}),
    },
  };
}

export function loadConfig(path: string): LoadedConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([
      code === 'ENOENT'
        ? `MESHOPS_CONFIG: ${absolute} does not exist (copy deploy/meshops.example.yaml there, or point MESHOPS_CONFIG at your file)`
        : `MESHOPS_CONFIG: cannot read ${absolute}: ${code ?? String(err)}`,
    ]);
  }
  return { ...parseConfig(text, absolute, dirname(absolute)), path: absolute };
}
