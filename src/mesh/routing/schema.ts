import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { didYouMean } from '../../config/strict.ts';
import type { VirtualServiceSpec } from './types.ts';

/**
 * Validates VirtualService specs against the `openAPIV3Schema` of Istio's CRD (copied into ./crd with its
 * provenance), the way an API server with strict field validation would: unknown fields are errors, not
 * silently pruned, so a typo such as `wieght` is caught before anyone is asked to approve it.
 */

export const ISTIO_GROUP = 'networking.istio.io';
export const VS_VERSIONS = ['v1alpha3', 'v1beta1', 'v1'] as const;
export type VsVersion = (typeof VS_VERSIONS)[number];

const CRD_FILE = new URL('./crd/virtualservices.networking.istio.io.yaml', import.meta.url);

export interface SchemaProblem {
  /** Where, as people write it: `spec.http[0].route[1].weight`. */
  field: string;
  message: string;
}

type JsonSchema = Record<string, unknown>;

/**
 * Kubernetes prunes fields a structural schema does not declare; `kubectl --validate=strict` rejects them.
 * Closing every declared object (unless it says x-kubernetes-preserve-unknown-fields) gives the strict behaviour.
 */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    // `properties` maps field names to schemas: the names themselves are not keywords.
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as JsonSchema).map(([k, v]) => [k, closeObjects(v)]))
        : closeObjects(value);
  }
  if (
    out.properties &&
    out.additionalProperties === undefined &&
    !out['x-kubernetes-preserve-unknown-fields']
  )
    out.additionalProperties = false;
  return out;
}

// Go's time.ParseDuration syntax, the only CEL rule this CRD uses (`duration(self) >= duration('1ms')`).
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

function goDurationNs(text: string): number | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
  return total;
}

interface CelRule {
  rule: string;
  message?: string;
}

function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
  });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });
  ajv.addKeyword({ keyword: 'x-kubernetes-int-or-string' });
  ajv.addKeyword({ keyword: 'x-kubernetes-preserve-unknown-fields' });
  // CEL cannot run here; the one rule the CRD uses is checked by hand, any other is left to the API server.
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    type: 'string',
    errors: true,
    validate: function check(rules: CelRule[], data: string) {
      for (const r of rules) {
        if (r.rule !== "duration(self) >= duration('1ms')") continue;
        const ns = goDurationNs(data);
        if (ns === undefined || ns < 1e6) {
          (check as unknown as { errors: Partial<ErrorObject>[] }).errors = [
            { keyword: 'x-kubernetes-validations', message: `${r.message ?? 'invalid'} (got "${data}")` },
          ];
          return false;
        }
      }
      return true;
    },
  });
  return ajv;
}

let validators: Map<VsVersion, ValidateFunction> | undefined;

/** Compiled once per process: the CRD is 150 kB of YAML. */
function specValidators(): Map<VsVersion, ValidateFunction> {
  if (validators) return validators;
  const crd = parseYaml(readFileSync(CRD_FILE, 'utf8')) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: { properties: { spec: JsonSchema } } } }[] };
  };
  const ajv = createAjv();
  // The versions' schemas are identical in current CRDs; compiling each distinct one once saves start-up time.
  const compiled = new Map<string, ValidateFunction>();
  validators = new Map();
  for (const version of VS_VERSIONS) {
    const v = crd.spec.versions.find((x) => x.name === version);
    if (!v) throw new Error(`the VirtualService CRD in ${CRD_FILE.pathname} has no version ${version}`);
    const schema = JSON.stringify(closeObjects(v.schema.openAPIV3Schema.properties.spec));
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(JSON.parse(schema) as JsonSchema);
      compiled.set(schema, validate);
    }
    validators.set(version, validate);
  }
  return validators;
}

/** `/http/0/route/1/weight` → `spec.http[0].route[1].weight`. */
function fieldOf(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = 'spec';
  for (const p of parts)
    out += /^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_][\w-]*$/.test(p) ? `.${p}` : `["${p}"]`;
  return out;
}

function describe(err: ErrorObject): SchemaProblem {
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = Object.keys((err.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return {
        field: fieldOf(err.instancePath, name),
        message: `unknown field${didYouMean(name, known)}${known.length > 0 ? `; allowed here: ${known.join(', ')}` : ''}`,
      };
    }
    case 'required':
      return { field: fieldOf(err.instancePath, String(params.missingProperty)), message: 'is required' };
    case 'type':
      return {
        field: fieldOf(err.instancePath),
        message: `must be ${String(params.type)}, not ${kindOf(err.data)}`,
      };
    case 'oneOf':
      return {
        field: fieldOf(err.instancePath),
        message: 'sets more than one of its alternatives (e.g. exact and prefix together); keep one',
      };
    default:
      return { field: fieldOf(err.instancePath), message: err.message ?? `fails ${err.keyword}` };
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Keeps the errors that say what to fix: Ajv reports every failed branch of a oneOf/anyOf as well as the
 * oneOf itself, and the branches (`must NOT be valid`, `must have required property 'exact'`) only confuse.
 */
function usefulErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const branchy = new Set(
    errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.schemaPath),
  );
  const inBranch = (e: ErrorObject) =>
    [...branchy].some(
      (p) => e.schemaPath !== p && e.schemaPath.startsWith(p.replace(/\/(oneOf|anyOf)$/, '/')),
    );
  const kept = errors.filter((e) => !inBranch(e) || e.keyword === 'additionalProperties');
  const seen = new Set<string>();
  return kept.filter((e) => {
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Checks Istio's own validation adds on top of the schema (pilot's webhook rejects these too). */
function semanticProblems(spec: VirtualServiceSpec): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (!spec.hosts || spec.hosts.length === 0)
    problems.push({ field: 'spec.hosts', message: 'must list at least one host' });
  if (!spec.http?.length && !spec.tcp?.length && !spec.tls?.length)
    problems.push({ field: 'spec', message: 'has no http, tcp or tls routes' });
  const routeSets = [
    ...(spec.http ?? []).map((r, i) => ({ at: `spec.http[${i}].route`, route: r.route })),
    ...(spec.tcp ?? []).map((r, i) => ({ at: `spec.tcp[${i}].route`, route: r.route })),
    ...(spec.tls ?? []).map((r, i) => ({ at: `spec.tls[${i}].route`, route: r.route })),
  ];
  for (const { at, route } of routeSets) {
    if (!route || route.length < 2) continue;
    const sum = route.reduce((s, d) => s + (d.weight ?? 0), 0);
    if (sum !== 100)
      problems.push({
        field: at,
        message: `weights add up to ${sum}; with several destinations they must add up to 100`,
      });
  }
  return problems;
}

/** Validates a spec for the given served version; an empty list means valid. */
export function validateSpec(version: VsVersion, spec: unknown): SchemaProblem[] {
  const validate = specValidators().get(version)!;
  if (!validate(spec)) return usefulErrors(validate.errors ?? []).map(describe);
  return semanticProblems(spec as VirtualServiceSpec);
}
