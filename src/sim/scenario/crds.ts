// The custom resources a scenario's chart installs, served as its CustomResourceDefinitions declare them:
// group, the one version an apiextensions v1beta1 CRD has, names, scope, categories.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_VERBS, type ResourceType } from '../api/resources.ts';
import { parseManifests } from './charts.ts';
import { SCENARIO_DIR } from './load.ts';

interface CrdSpec {
  group: string;
  version?: string;
  versions?: { name: string; served?: boolean }[];
  scope: 'Namespaced' | 'Cluster';
  additionalPrinterColumns?: unknown[];
  names: { plural: string; singular?: string; kind: string; shortNames?: string[]; categories?: string[] };
}

export function crdTypes(files: readonly string[]): ResourceType[] {
  return files.flatMap((file) =>
    // The chart's Helm directives in crds.yaml are YAML comments, so the file parses as it is.
    parseManifests(readFileSync(join(SCENARIO_DIR, file), 'utf8'))
      .filter((o) => o.kind === 'CustomResourceDefinition')
      .map((o) => {
        const spec = o.spec as CrdSpec;
        const versions =
          spec.versions?.filter((v) => v.served !== false).map((v) => v.name) ??
          (spec.version ? [spec.version] : []);
        return {
          group: spec.group,
          versions,
          resource: spec.names.plural,
          singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
          kind: spec.names.kind,
          namespaced: spec.scope === 'Namespaced',
          verbs: ALL_VERBS,
          ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
          ...(spec.names.categories ? { categories: spec.names.categories } : {}),
          custom: true,
          ...(spec.additionalPrinterColumns ? {} : { defaultColumns: true }),
        };
      }),
  );
}
