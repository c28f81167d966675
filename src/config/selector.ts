/**
 * Kubernetes label selectors (apimachinery labels.Parse; kubernetes.io "Labels and Selectors"), parsed and
 * matched locally: the status check lists each cluster's pods once and sorts them into components itself, and
 * the config validates component selectors. (The simulated apiserver has its own, src/sim/api/label-selector.ts.)
 *
 * Grammar: requirements joined by commas (AND): `key`, `!key`, `key=value`, `key==value`, `key!=value`,
 * `key in (v1, v2)`, `key notin (v1, v2)`. As in the apiserver, `!=` and `notin` also match objects
 * without the key.
 */

export type Labels = Readonly<Record<string, string>>;

/** `=`/`==` are kept as `in` with one value and `!=` as `notin` with one value: the same semantics. */
export type LabelRequirement =
  | { key: string; op: 'exists' | 'absent' }
  | { key: string; op: 'in' | 'notin'; values: readonly string[] };

export class SelectorError extends Error {}

// A key is `name` or `prefix/name`: the name up to 63 characters, the prefix a DNS subdomain.
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Splits on commas that are not inside `( … )`. */
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
  return parts.map((p) => p.trim());
}

function invalid(part: string, why: string): SelectorError {
  return new SelectorError(`unable to parse requirement "${part}": ${why}`);
}

function key(text: string, part: string): string {
  const k = text.trim();
  const slash = k.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  const name = k.slice(slash + 1);
  const ok =
    NAME.test(name) &&
    name.length <= 63 &&
    (prefix === undefined || (PREFIX.test(prefix) && prefix.length <= 253));
  if (!ok) throw invalid(part, `"${k}" is not a label key`);
  return k;
}

function values(list: readonly string[], part: string): string[] {
  return list.map((v) => {
    const value = v.trim();
    if (!VALUE.test(value) || value.length > 63) throw invalid(part, `"${value}" is not a label value`);
    return value;
  });
}

/**
 * Throws a SelectorError naming the offending requirement when the text is not a selector. An empty
 * selector selects everything, as in the apiserver, unless `allowEmpty` is false.
 */
export function parseLabelSelector(text: string, options: { allowEmpty?: boolean } = {}): LabelRequirement[] {
  if (text.trim() === '') {
    if (options.allowEmpty === false) throw new SelectorError('an empty selector would match everything');
    return [];
  }
  return splitTopLevel(text).map((part): LabelRequirement => {
    if (part === '') throw invalid(part, 'empty requirement');
    const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    if (set)
      return {
        key: key(set[1]!, part),
        op: set[2] as 'in' | 'notin',
        values: values(set[3]!.split(','), part),
      };
    const eq = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (eq)
      return { key: key(eq[1]!, part), op: eq[2] === '!=' ? 'notin' : 'in', values: values([eq[3]!], part) };
    if (part.startsWith('!')) return { key: key(part.slice(1), part), op: 'absent' };
    return { key: key(part, part), op: 'exists' };
  });
}

export function matchesLabels(
  requirements: readonly LabelRequirement[],
  labels: Labels | undefined,
): boolean {
  return requirements.every((r) => {
    const value = labels && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
    if (!('values' in r)) return (value !== undefined) === (r.op === 'exists');
    const listed = value !== undefined && r.values.includes(value);
    return r.op === 'in' ? listed : !listed;
  });
}

/** Why a `matchLabels` map cannot be a selector (a key or value outside the label syntax), or undefined. */
export function labelsProblem(labels: Labels): string | undefined {
  for (const [k, v] of Object.entries(labels)) {
    const part = `${k}=${v}`;
    try {
      key(k, part);
      values([v], part);
      if (v !== v.trim() || k !== k.trim()) throw invalid(part, 'labels have no surrounding spaces');
    } catch (err) {
      return (err as Error).message;
    }
  }
  return undefined;
}

/**
 * Renders a `matchLabels` map as selector text. Values come from cluster objects: one like `v3,app` would add
 * a requirement of its own, so anything outside the label syntax is refused, never joined in.
 */
export function selectorText(labels: Labels): string {
  const problem = labelsProblem(labels);
  if (problem) throw new SelectorError(problem);
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
