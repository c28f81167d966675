// `helm template` for the chart copies under src/sim/scenarios/: values.yaml with `--set`
// overrides, rendered by the Go-template subset, split into Kubernetes objects.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { Json, KubeObject } from '../cluster/store.ts';
import { renderGoTemplate } from './go-template.ts';

export interface ChartRelease {
  name: string;
  namespace: string;
  service: string;
}

/** Applies `--set a.b.c=value` to a values tree. */
function setValue(values: Json, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let cur = values;
  for (const key of keys.slice(0, -1)) {
    if (cur[key] === null || typeof cur[key] !== 'object') cur[key] = {};
    cur = cur[key];
  }
  cur[keys.at(-1)!] = value;
}

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object' && 'kind' in o);
}

export function renderChart(
  chartDir: string,
  templates: readonly string[],
  release: ChartRelease,
  set: Readonly<Record<string, unknown>>,
): KubeObject[] {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Json;
  const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Json;
  for (const [key, value] of Object.entries(set)) setValue(values, key, value);
  const root = {
    Values: values,
    Chart: { Name: chart.name, Version: String(chart.version) },
    Release: { Name: release.name, Namespace: release.namespace, Service: release.service },
  };
  // `istio.name` from the chart's _helpers.tpl: `default .Chart.Name .Values.nameOverride`.
  const helpers = { 'istio.name': () => String(values.nameOverride || chart.name) };
  // Templates are stored as `<name>.gotmpl` so YAML tooling leaves them alone.
  return templates.flatMap((file) =>
    parseManifests(
      renderGoTemplate(readFileSync(join(chartDir, 'templates', `${file}.gotmpl`), 'utf8'), root, helpers),
    ),
  );
}
