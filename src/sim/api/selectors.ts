// Label and field selectors as the apiserver parses them (kubernetes.io "Labels and Selectors",
// "Field Selectors"): comma means AND; `!=` and `notin` also match objects without the key.

export type Labels = Readonly<Record<string, string>>;

export type LabelRequirement =
  | { op: 'exists' | 'notexists'; key: string }
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: readonly string[] };

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

export class SelectorError extends Error {}

const KEY = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?';
const VALUE = '(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?';
const EXISTS = new RegExp(`^(${KEY})$`);
const NOT_EXISTS = new RegExp(`^!\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const SET_VALUE = new RegExp(`^${VALUE}$`);

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
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim());
}

export function parseLabelSelector(text: string): LabelRequirement[] {
  if (text.trim() === '') return [];
  return splitTopLevel(text).map((part) => {
    let m = NOT_EXISTS.exec(part);
    if (m) return { op: 'notexists', key: m[1]! };
    m = EXISTS.exec(part);
    if (m) return { op: 'exists', key: m[1]! };
    m = EQUALITY.exec(part);
    if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[3]! };
    m = SET.exec(part);
    if (m) {
      const values = m[3]!.split(',').map((v) => v.trim());
      if (values.some((v) => !SET_VALUE.test(v))) {
        throw new SelectorError(`unable to parse requirement: invalid label value in "${part}"`);
      }
      return { op: m[2] === 'in' ? 'in' : 'notin', key: m[1]!, values };
    }
    throw new SelectorError(`unable to parse requirement: "${part}"`);
  });
}

function satisfies(r: LabelRequirement, labels: Labels): boolean {
  const value = Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
  switch (r.op) {
    case 'exists':
      return value !== undefined;
    case 'notexists':
      return value === undefined;
    case 'eq':
      return value === r.value;
    case 'neq':
      return value !== r.value;
    case 'in':
      return value !== undefined && r.values.includes(value);
    case 'notin':
      return value === undefined || !r.values.includes(value);
  }
}

export function matchesLabels(
  requirements: readonly LabelRequirement[],
  labels: Labels | undefined,
): boolean {
  return requirements.every((r) => satisfies(r, labels ?? {}));
}

export function parseFieldSelector(text: string, supported: readonly string[]): FieldRequirement[] {
  if (text.trim() === '') return [];
  return text.split(',').map((raw) => {
    const part = raw.trim();
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = m[1]!;
    if (!supported.includes(field)) {
      const list = supported.map((f) => `"${f}"`).join(', ');
      throw new SelectorError(`"${field}" is not a known field selector: only ${list}`);
    }
    return { field, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3]! };
  });
}

function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[key];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}

export function matchesFields(requirements: readonly FieldRequirement[], obj: unknown): boolean {
  return requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === 'eq'));
}

/** Renders a `matchLabels`-style map back into selector text. */
export function selectorText(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
