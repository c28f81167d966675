// Finds and validates scenarios: a built-in name (`seed`, `modern`), a YAML/JSON file path, or
// scenario data already in memory.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type Scenario, type ScenarioInput, ScenarioSchema } from './schema.ts';

export const SCENARIO_DIR = fileURLToPath(new URL('../scenarios/', import.meta.url));

export type ScenarioSource = 'seed' | 'modern' | (string & {}) | ScenarioInput;

export function loadScenario(source: ScenarioSource): Scenario {
  let origin = 'scenario data';
  let data: unknown = source;
  if (typeof source === 'string') {
    const builtIn = `${SCENARIO_DIR}${source}.yaml`;
    origin = existsSync(builtIn) ? builtIn : source;
    // Merge keys (`<<: *anchor`) let scenario files share container and injection blocks.
    data = parse(readFileSync(origin, 'utf8'), { merge: true });
  }
  const result = ScenarioSchema.safeParse(data);
  if (!result.success) {
    const issues = result.error.issues
      .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    throw new Error(`invalid ${origin}:\n${issues}`);
  }
  return result.data;
}
