import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SCENARIO_DIR } from '../../src/sim/scenario/load.ts';
import type { ScenarioInput } from '../../src/sim/scenario/schema.ts';

/**
 * The modern scenario on another Istio release: every Istio image, chart label and the remote chart's
 * rendered objects (`istiod-remote-<version>/`) are of 1.24.2 in modern.yaml, so replacing that version
 * gives the same mesh on `version`, as long as a rendering for it exists.
 */
export function modernScenario(version: '1.28.0'): ScenarioInput {
  const text = readFileSync(`${SCENARIO_DIR}modern.yaml`, 'utf8').replaceAll('1.24.2', version);
  return { ...(parse(text, { merge: true }) as ScenarioInput), name: `modern-${version}` };
}
