import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { z } from 'zod';
import { configSchema } from '../../src/config/schema.ts';

// The README says the example "shows every key": every key path of the schema is in it, set or commented out.

type Def = {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
};

function schemaPaths(schema: z.ZodType, at: string, out: Set<string>): Set<string> {
  const def = (schema as unknown as { def: Def }).def;
  if (def.innerType) return schemaPaths(def.innerType, at, out);
  if (def.type === 'pipe' && def.in) return schemaPaths(def.in, at, out);
  if (def.type === 'array' && def.element) return schemaPaths(def.element, `${at}[]`, out);
  if (def.type === 'object' && def.shape)
    for (const [k, v] of Object.entries(def.shape)) {
      const path = at ? `${at}.${k}` : k;
      out.add(path);
      schemaPaths(v, path, out);
    }
  return out;
}

function valuePaths(value: unknown, at: string, out: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) valuePaths(v, `${at}[]`, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      const path = at ? `${at}.${k}` : k;
      out.add(path);
      valuePaths(v, path, out);
    }
  return out;
}

test('deploy/meshops.example.yaml shows every config key the schema accepts', () => {
  const text = readFileSync(new URL('../../deploy/meshops.example.yaml', import.meta.url), 'utf8');
  const shown = valuePaths(parse(text), '', new Set());
  const commented = new Set(
    text
      .split('\n')
      .filter((l) => /^\s*#/.test(l))
      .flatMap((l) => [...l.matchAll(/([A-Za-z]+):/g)].map((m) => m[1]!)),
  );
  const missing = [...schemaPaths(configSchema, '', new Set())].filter(
    (p) => !shown.has(p) && !commented.has(p.split('.').at(-1)!.replace('[]', '')),
  );
  assert.deepEqual(missing, []);
});
