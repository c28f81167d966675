/**
 * Kubernetes label selectors (apimachinery labels.Parse syntax), matched locally: the status check lists
 * each cluster's pods once and sorts them into components itself, instead of one request per component.
 */

export type Requirement =
  | { key: string; op: 'exists' | 'absent' }
  | { key: string; op: 'in' | 'notin'; values: string[] };

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_./]*[a-z0-9A-Z])?)$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function key(text: string, whole: string): string {
  const k = text.trim();
  if (!KEY.test(k)) throw new Error(`"${whole}": "${k}" is not a label key`);
  return k;
}

function values(list: string[], whole: string): string[] {
  return list.map((v) => {
    const value = v.trim();
    if (!VALUE.test(value)) throw new Error(`"${whole}": "${value}" is not a label value`);
    return value;
  });
}

/** Throws with the offending part named when the text is not a selector. */
export function parseSelector(text: string): Requirement[] {
  if (text.trim() === '') throw new Error('an empty selector would match every pod');
  return splitTopLevel(text).map((raw): Requirement => {
    const part = raw.trim();
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
    if (set)
      return {
        key: key(set[1]!, part),
        op: set[2] as 'in' | 'notin',
        values: values(set[3]!.split(','), part),
      };
    const eq = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (eq) {
      const [value] = values([eq[3]!], part);
      return { key: key(eq[1]!, part), op: eq[2] === '!=' ? 'notin' : 'in', values: [value!] };
    }
    if (part.startsWith('!')) return { key: key(part.slice(1), part), op: 'absent' };
    return { key: key(part, part), op: 'exists' };
  });
}

export function matches(
  requirements: readonly Requirement[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return requirements.every((r) => {
    const value = labels[r.key];
    if (!('values' in r)) return (value !== undefined) === (r.op === 'exists');
    const listed = value !== undefined && r.values.includes(value);
    return r.op === 'in' ? listed : !listed;
  });
}
