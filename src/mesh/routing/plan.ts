import { createHash } from 'node:crypto';
import { structuredPatch } from 'diff';
import { stringify } from 'yaml';
import type { Preset } from './presets.ts';
import { refText, type VirtualServiceSpec, type VsRef } from './types.ts';

/** A VirtualService as it is on the primary right now. */
export interface LiveVirtualService {
  ref: VsRef;
  resourceVersion: string;
  spec: VirtualServiceSpec;
}

/** What one VirtualService should become; `spec: null` means it should not exist (rolling back a creation). */
export interface Target {
  ref: VsRef;
  spec: VirtualServiceSpec | null;
}

export interface Change {
  ref: VsRef;
  before: VirtualServiceSpec | null;
  /** The live resourceVersion the change is bound to; null when the object does not exist. */
  resourceVersion: string | null;
  after: VirtualServiceSpec | null;
}

export interface Plan {
  /** Only the VirtualServices that differ; an empty list means nothing to do. */
  changes: Change[];
  unchanged: VsRef[];
  /** Compact unified diff of normalized YAML, one section per changed VirtualService. */
  diff: string;
  /** sha256 of `diff`: an approval is bound to exactly this text. */
  hash: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sorted keys, no null or undefined fields: two specs that mean the same print the same. */
export function normalize(value: unknown): Json {
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== null && v !== undefined) out[key] = normalize(v);
    }
    return out;
  }
  return (value ?? null) as Json;
}

export const specYaml = (spec: VirtualServiceSpec | null): string =>
  spec === null ? '' : stringify(normalize(spec), { lineWidth: 0 });

export const sameSpec = (a: VirtualServiceSpec | null, b: VirtualServiceSpec | null): boolean =>
  specYaml(a) === specYaml(b);

const key = refText;

/** The diff of one change; `label` names where the new spec comes from (a preset, "rollback"). */
function changeDiff(change: Change, label: string): string {
  const name = key(change.ref);
  const patch = structuredPatch(name, name, specYaml(change.before), specYaml(change.after), '', '', {
    context: 2,
  });
  const lines = [
    `--- ${change.before === null ? '(absent)' : 'live'} ${name}`,
    `+++ ${change.after === null ? '(deleted)' : label} ${name}`,
  ];
  for (const h of patch.hunks) {
    lines.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines);
  }
  return lines.join('\n');
}

export function diffHash(diff: string): string {
  return createHash('sha256').update(diff).digest('hex');
}

/** Compares targets with the live objects; `live` holds every VirtualService that exists, by `ns/name`. */
export function makePlan(
  targets: readonly Target[],
  live: ReadonlyMap<string, LiveVirtualService>,
  label: string,
): Plan {
  const changes: Change[] = [];
  const unchanged: VsRef[] = [];
  for (const t of targets) {
    const current = live.get(key(t.ref));
    const before = current?.spec ?? null;
    if (sameSpec(before, t.spec)) unchanged.push(t.ref);
    else
      changes.push({ ref: t.ref, before, resourceVersion: current?.resourceVersion ?? null, after: t.spec });
  }
  const diff = changes.map((c) => changeDiff(c, label)).join('\n');
  return { changes, unchanged, diff, hash: diffHash(diff) };
}

export const presetTargets = (preset: Preset): Target[] =>
  preset.virtualServices.map((v) => ({ ref: v.ref, spec: v.spec }));

/** Names of the presets whose every VirtualService is live with exactly the preset's spec. */
export function matchingPresets(
  presets: readonly Preset[],
  live: ReadonlyMap<string, LiveVirtualService>,
): string[] {
  return presets
    .filter((p) => p.virtualServices.every((v) => sameSpec(live.get(key(v.ref))?.spec ?? null, v.spec)))
    .map((p) => p.name);
}

/** "+3 −1" for a diff, for one-line summaries and the audit list. */
export function diffStat(diff: string): string {
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++ ')) added++;
    else if (line.startsWith('-') && !line.startsWith('--- ')) removed++;
  }
  return `+${added} −${removed}`;
}
