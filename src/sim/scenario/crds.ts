// The CustomResourceDefinitions a scenario's chart installs: the custom resources served as they declare
// them (group, served versions, names, scope, categories), and the CRD objects themselves as
// apiextensions.k8s.io/v1 serves them. Istio 1.0.2's crds.yaml is apiextensions v1beta1, which Kubernetes
// 1.22+ no longer serves: such CRDs (created before an upgrade) are read back converted to v1, with
// v1beta1's defaults made explicit (versions from `version`, preserveUnknownFields true, conversion None).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_VERBS, type ResourceType } from '../api/resources.ts';
import type { Json, KubeObject } from '../cluster/store.ts';
import { parseManifests } from './charts.ts';
import { SCENARIO_DIR } from './load.ts';

interface CrdSpec {
  group: string;
  version?: string;
  versions?: Json[];
  scope: 'Namespaced' | 'Cluster';
  validation?: Json;
  subresources?: Json;
  additionalPrinterColumns?: Json[];
  preserveUnknownFields?: boolean;
  names: {
    plural: string;
    singular?: string;
    kind: string;
    listKind?: string;
    shortNames?: string[];
    categories?: string[];
  };
}

function manifests(files: readonly string[]): KubeObject[] {
  return files.flatMap((file) =>
    // The chart's Helm directives in crds.yaml are YAML comments, so the file parses as it is.
    parseManifests(readFileSync(join(SCENARIO_DIR, file), 'utf8')).filter(
      (o) => o.kind === 'CustomResourceDefinition',
    ),
  );
}

export function crdTypes(files: readonly string[]): ResourceType[] {
  return manifests(files).map((o) => {
    const spec = o.spec as CrdSpec;
    const versions =
      spec.versions?.filter((v) => v.served !== false).map((v) => v.name as string) ??
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
  });
}

/** v1beta1's printer column (JSONPath) as v1 names it (jsonPath). */
function printerColumn({ JSONPath, ...rest }: Json): Json {
  return JSONPath === undefined ? rest : { ...rest, jsonPath: JSONPath };
}

/** One CRD as `GET …/apiextensions.k8s.io/v1/customresourcedefinitions/<name>` returns it (stored form). */
export function servedCrd(manifest: KubeObject, createdAt: string): KubeObject {
  const spec = manifest.spec as CrdSpec;
  const names = {
    ...spec.names,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
  };
  // v1beta1's per-CRD schema, subresources and columns apply to every version in v1.
  const shared = {
    ...(spec.validation ? { schema: spec.validation } : {}),
    ...(spec.subresources ? { subresources: spec.subresources } : {}),
    ...(spec.additionalPrinterColumns
      ? { additionalPrinterColumns: spec.additionalPrinterColumns.map(printerColumn) }
      : {}),
  };
  const versions: Json[] = (spec.versions ?? [{ name: spec.version, served: true, storage: true }]).map(
    (v) => ({
      ...shared,
      ...v,
      ...(v.additionalPrinterColumns
        ? { additionalPrinterColumns: (v.additionalPrinterColumns as Json[]).map(printerColumn) }
        : {}),
    }),
  );
  const preserveUnknownFields = spec.preserveUnknownFields ?? manifest.apiVersion?.endsWith('/v1beta1');
  const condition = (type: string, reason: string, message: string) => ({
    lastTransitionTime: createdAt,
    message,
    reason,
    status: 'True',
    type,
  });
  return {
    metadata: {
      ...manifest.metadata,
      generation: 1,
      creationTimestamp: createdAt,
    },
    spec: {
      conversion: { strategy: 'None' },
      group: spec.group,
      names,
      ...(preserveUnknownFields ? { preserveUnknownFields: true } : {}),
      scope: spec.scope,
      versions,
    },
    status: {
      acceptedNames: names,
      // The naming and establishing controllers' conditions, then the nonstructuralschema controller's
      // verdict on a CRD that keeps unknown fields (no pruning schema).
      conditions: [
        condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
        condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
        ...(preserveUnknownFields
          ? [
              condition(
                'NonStructuralSchema',
                'Violations',
                'spec.preserveUnknownFields: Invalid value: true: must be false',
              ),
            ]
          : []),
      ],
      storedVersions: versions.filter((v) => v.storage).map((v) => v.name),
    },
  };
}

export function crdObjects(files: readonly string[], createdAt: string): KubeObject[] {
  return manifests(files).map((m) => servedCrd(m, createdAt));
}
