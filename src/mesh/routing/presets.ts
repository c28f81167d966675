import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../../config/load.ts';
import { didYouMean } from '../../config/strict.ts';
import { ISTIO_GROUP, VS_VERSIONS, type VsVersion, validateSpec } from './schema.ts';
import type { VirtualServiceSpec, VsRef } from './types.ts';

/** The bookinfo presets shipped with meshops, used when `routing.presets` is not set. */
export const DEFAULT_PRESETS_DIR = fileURLToPath(new URL('./presets/', import.meta.url));

export interface PresetVirtualService {
  ref: VsRef;
  /** The version the file names; meshops writes with whichever version the primary serves. */
  version: VsVersion;
  spec: VirtualServiceSpec;
}

export interface Preset {
  /** The file name without extension: what users type in `/mesh route apply <preset>`. */
  name: string;
  file: string;
  virtualServices: PresetVirtualService[];
}

// What the command parser accepts as an argument, so every preset can actually be typed.
const PRESET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TOP_LEVEL = ['apiVersion', 'kind', 'metadata', 'spec'];
const METADATA = ['name', 'namespace'];
const API_VERSIONS = VS_VERSIONS.map((v) => `${ISTIO_GROUP}/${v}`);

const isMapping = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Problems of one document, each naming the field; an empty list means the document is usable. */
function checkDocument(
  doc: unknown,
  defaultNamespace: string,
): { problems: string[]; vs?: PresetVirtualService } {
  if (!isMapping(doc)) return { problems: ['(top level): must be a VirtualService manifest (a mapping)'] };
  const problems: string[] = [];
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL.includes(key))
      problems.push(
        key === 'status'
          ? 'status: is written by Istio, not by presets; remove it'
          : `${key}: unknown field${didYouMean(key, TOP_LEVEL)}; allowed: ${TOP_LEVEL.join(', ')}`,
      );
  }
  const version = API_VERSIONS.indexOf(String(doc.apiVersion));
  if (version < 0)
    problems.push(
      `apiVersion: must be one of ${API_VERSIONS.join(', ')}, not ${JSON.stringify(doc.apiVersion ?? null)}`,
    );
  if (doc.kind !== 'VirtualService')
    problems.push(`kind: must be VirtualService, not ${JSON.stringify(doc.kind ?? null)}`);
  const meta = doc.metadata;
  let ref: VsRef | undefined;
  if (!isMapping(meta)) {
    problems.push('metadata.name: is required');
  } else {
    for (const key of Object.keys(meta)) {
      if (!METADATA.includes(key))
        problems.push(
          `metadata.${key}: presets set only metadata.name and metadata.namespace (the spec is what they change)`,
        );
    }
    const name = meta.name;
    const namespace = meta.namespace ?? defaultNamespace;
    if (typeof name !== 'string' || !DNS_SUBDOMAIN.test(name))
      problems.push(
        `metadata.name: must be a Kubernetes name (lowercase letters, digits, - and .), not ${JSON.stringify(name ?? null)}`,
      );
    else if (typeof namespace !== 'string' || !DNS_SUBDOMAIN.test(namespace))
      problems.push(
        `metadata.namespace: must be a Kubernetes namespace name, not ${JSON.stringify(namespace)}`,
      );
    else ref = { namespace, name };
  }
  if (!isMapping(doc.spec)) {
    problems.push('spec: is required (a mapping with hosts and http, tcp or tls routes)');
  } else if (version >= 0) {
    for (const p of validateSpec(VS_VERSIONS[version]!, doc.spec)) problems.push(`${p.field}: ${p.message}`);
  }
  if (problems.length > 0 || !ref) return { problems };
  return {
    problems,
    vs: { ref, version: VS_VERSIONS[version]!, spec: doc.spec as VirtualServiceSpec },
  };
}

/** Parses one preset file; problems name the file, the document (counted from 1) and the field. */
export function parsePreset(
  file: string,
  text: string,
  defaultNamespace: string,
): { preset?: Preset; problems: string[] } {
  const name = basename(file, extname(file));
  const problems: string[] = [];
  if (!PRESET_NAME.test(name))
    problems.push(
      `${file}: the file name "${name}" cannot be typed in /mesh route apply; use letters, digits, ., - and _`,
    );
  const docs = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(docs)) return { problems: [`${file}: empty file`] };
  const virtualServices: PresetVirtualService[] = [];
  const seen = new Set<string>();
  docs.forEach((doc, i) => {
    const where = `${file}: document ${i + 1} of ${docs.length}`;
    if (doc.errors.length > 0) {
      problems.push(`${where}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
      return;
    }
    const value = doc.toJS() as unknown;
    // A trailing `---` (as in bookinfo's all-v1) yields an empty last document.
    if (value === null || value === undefined) return;
    const checked = checkDocument(value, defaultNamespace);
    const label = isMapping(value) && isMapping(value.metadata) ? ` (${String(value.metadata.name)})` : '';
    for (const p of checked.problems) problems.push(`${where}${label}: ${p}`);
    if (!checked.vs) return;
    const key = `${checked.vs.ref.namespace}/${checked.vs.ref.name}`;
    if (seen.has(key)) problems.push(`${where}${label}: VirtualService ${key} appears twice in this preset`);
    seen.add(key);
    virtualServices.push(checked.vs);
  });
  if (problems.length === 0 && virtualServices.length === 0)
    problems.push(`${file}: holds no VirtualService (a preset needs at least one)`);
  return problems.length > 0 ? { problems } : { preset: { name, file, virtualServices }, problems };
}

/**
 * Loads every `*.yaml`/`*.yml` in `dir` as a preset. Any problem in any file stops start-up: a preset that
 * cannot be applied must not appear in `/mesh route list` as if it could.
 */
export function loadPresets(dir: string, defaultNamespace: string): Preset[] {
  let entries: string[];
  try {
    entries = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([
      `routing.presets: ${dir} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`}`,
    ]);
  }
  if (entries.length === 0) throw new ConfigError([`routing.presets: ${dir} holds no .yaml preset files`]);
  const problems: string[] = [];
  const presets: Preset[] = [];
  const names = new Map<string, string>();
  for (const entry of entries) {
    const file = join(dir, entry);
    const result = parsePreset(file, readFileSync(file, 'utf8'), defaultNamespace);
    problems.push(...result.problems);
    if (!result.preset) continue;
    const other = names.get(result.preset.name);
    if (other) problems.push(`${file}: preset "${result.preset.name}" is also defined by ${other}`);
    names.set(result.preset.name, file);
    presets.push(result.preset);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return presets;
}

const loaded = new Map<string, Preset[]>();

/**
 * The presets of a config, loaded once per folder: start-up loads (and validates) them, and the parser's
 * preset names and every later job see that same set, so a file edited after start changes nothing silently.
 */
export function presetsFor(routing: { presets?: string | undefined; namespace: string }): Preset[] {
  const dir = routing.presets ?? DEFAULT_PRESETS_DIR;
  const key = `${routing.namespace}\u0000${dir}`;
  let presets = loaded.get(key);
  if (!presets) {
    presets = loadPresets(dir, routing.namespace);
    loaded.set(key, presets);
  }
  return presets;
}

/** The preset by name, or the reply for an unknown one listing what exists. */
export function findPreset(presets: readonly Preset[], name: string): Preset | string {
  return (
    presets.find((p) => p.name === name) ??
    `unknown preset "${name}"; available: ${presets.map((p) => p.name).join(', ') || '(none)'}`
  );
}

/** Every namespace the presets or the config point routing at. */
export const routingNamespaces = (presets: readonly Preset[], namespace: string): string[] => [
  ...new Set([namespace, ...presets.flatMap((p) => p.virtualServices.map((v) => v.ref.namespace))]),
];
