// Label selectors as the apiserver parses them: a port of the lexer and parser in apimachinery
// pkg/labels/selector.go, written for the simulation on its own (meshops parses selectors in
// src/config/selector.ts; the two must not share code, so a test against the simulation checks meshops).

export class SelectorError extends Error {}

type Operator = 'exists' | '!' | '=' | '==' | '!=' | 'in' | 'notin';

interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

type Token =
  | { kind: 'identifier'; text: string }
  | { kind: 'op'; text: '!' | '=' | '==' | '!=' | ',' | '(' | ')' }
  | { kind: 'end' };

/** The lexer's special characters: they end an identifier. */
const SPECIAL = new Set(['!', '=', ',', '(', ')']);
const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (isWhitespace(ch)) {
      i++;
    } else if (SPECIAL.has(ch)) {
      const two = input.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        tokens.push({ kind: 'op', text: two });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: ch as '!' | '=' | ',' | '(' | ')' });
        i++;
      }
    } else {
      let j = i;
      while (j < input.length && !SPECIAL.has(input[j]!) && !isWhitespace(input[j]!)) j++;
      tokens.push({ kind: 'identifier', text: input.slice(i, j) });
      i = j;
    }
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

// validation.IsQualifiedName and IsValidLabelValue.
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.at(-1)!;
  const prefix = parts.length === 2 ? parts[0]! : undefined;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

const validValue = (value: string) => value === '' || (value.length <= 63 && QUALIFIED_NAME.test(value));

class Parser {
  private position = 0;
  private readonly tokens: Token[];
  private readonly input: string;
  constructor(tokens: Token[], input: string) {
    this.tokens = tokens;
    this.input = input;
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private next(): Token {
    return this.tokens[this.position++]!;
  }

  private fail(why: string): never {
    throw new SelectorError(`unable to parse requirement: ${why} in "${this.input}"`);
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'end') return requirements;
      if (t.kind === 'identifier' || (t.kind === 'op' && t.text === '!')) {
        requirements.push(this.requirement());
        const after = this.next();
        if (after.kind === 'end') return requirements;
        if (after.kind === 'op' && after.text === ',') {
          if (this.peek().kind === 'end') this.fail('found end of input after ","');
          continue;
        }
        this.fail(
          `found "${after.kind === 'op' ? after.text : after.kind === 'identifier' ? after.text : ''}", expected ","`,
        );
      }
      this.fail(`found "${t.text}", expected a key`);
    }
  }

  private requirement(): Requirement {
    let operator: Operator | undefined;
    if (this.peek().kind === 'op') {
      this.next(); // "!"
      operator = '!';
    }
    const keyToken = this.next();
    if (keyToken.kind !== 'identifier') this.fail('expected a key');
    const key = keyToken.text;
    if (!validKey(key)) this.fail(`"${key}" is not a valid label key`);
    if (operator === '!') return { key, operator, values: [] };
    const t = this.peek();
    if (t.kind === 'end' || (t.kind === 'op' && t.text === ','))
      return { key, operator: 'exists', values: [] };
    const op = this.next();
    if (op.kind === 'identifier' && (op.text === 'in' || op.text === 'notin')) {
      const open = this.next();
      if (open.kind !== 'op' || open.text !== '(') this.fail(`expected "(" after ${op.text}`);
      return { key, operator: op.text, values: this.valueSet() };
    }
    if (op.kind === 'op' && (op.text === '=' || op.text === '==' || op.text === '!=')) {
      const value = this.peek();
      let text = '';
      if (value.kind === 'identifier') {
        this.next();
        text = value.text;
      }
      if (!validValue(text)) this.fail(`"${text}" is not a valid label value`);
      return { key, operator: op.text, values: [text] };
    }
    this.fail(`"${op.kind === 'end' ? '' : op.text}" is not an operator`);
  }

  /** `( v1, v2 )` after the opening parenthesis; an empty value is allowed, as upstream. */
  private valueSet(): string[] {
    const values: string[] = [];
    for (;;) {
      const t = this.next();
      let value = '';
      let after = t;
      if (t.kind === 'identifier') {
        value = t.text;
        after = this.next();
      }
      if (!validValue(value)) this.fail(`"${value}" is not a valid label value`);
      values.push(value);
      if (after.kind === 'op' && after.text === ')') return values;
      if (!(after.kind === 'op' && after.text === ',')) this.fail('expected "," or ")" in a value set');
    }
  }
}

export type LabelSelector = (labels: Readonly<Record<string, string>> | undefined) => boolean;

/** Parses a label selector into a matcher; the empty selector matches everything. */
export function labelSelector(text: string): LabelSelector {
  const requirements = new Parser(lex(text), text).parse();
  return (labels) =>
    requirements.every(({ key, operator, values }) => {
      const has = labels !== undefined && Object.hasOwn(labels, key);
      const value = has ? labels[key]! : undefined;
      switch (operator) {
        case 'exists':
          return has;
        case '!':
          return !has;
        case '=':
        case '==':
        case 'in':
          return has && values.includes(value!);
        default:
          // != and notin also match objects without the key
          return !has || !values.includes(value!);
      }
    });
}

/** A `matchLabels` map as one selector: every label must match. */
export function matchLabelsSelector(matchLabels: Readonly<Record<string, string>>): LabelSelector {
  return (labels) =>
    labels !== undefined &&
    Object.entries(matchLabels).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}
