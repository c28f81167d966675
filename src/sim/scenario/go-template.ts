// Just enough of Go's text/template (plus the Sprig functions Helm charts use here) to render
// the istio-remote 1.0.2 chart templates verbatim, so the simulated remote holds exactly what
// `helm template` produced. Supports: text, `{{- -}}` trimming, if/else/end, `$v := …`,
// `template "name" .`, field chains, string/number literals, pipelines, printf/default/replace/quote.

type Value = unknown;
type Helpers = Record<string, (root: Value) => string>;

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expr: string }
  | { kind: 'assign'; name: string; expr: string }
  | { kind: 'template'; name: string }
  | { kind: 'if'; cond: string; whenTrue: Node[]; whenFalse: Node[] };

interface Token {
  kind: 'text' | 'action';
  text: string;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) {
      tokens.push({ kind: 'text', text: source.slice(pos) });
      break;
    }
    tokens.push({ kind: 'text', text: source.slice(pos, open) });
    const close = source.indexOf('}}', open);
    if (close < 0) throw new Error('unclosed action');
    let body = source.slice(open + 2, close);
    if (body.startsWith('- ')) {
      const prev = tokens.at(-1)!;
      prev.text = prev.text.replace(/\s+$/, '');
      body = body.slice(2);
    }
    let trimNext = false;
    if (body.endsWith(' -')) {
      trimNext = true;
      body = body.slice(0, -2);
    }
    tokens.push({ kind: 'action', text: body.trim() });
    pos = close + 2;
    if (trimNext) {
      const rest = source.slice(pos);
      pos += rest.length - rest.replace(/^\s+/, '').length;
    }
  }
  return tokens;
}

function parse(tokens: Token[]): Node[] {
  let i = 0;
  const block = (stopAt: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.kind === 'text') {
        if (t.text) nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const a = t.text;
      if (a.startsWith('/*')) continue;
      if (stopAt.includes(a)) return { nodes, stop: a };
      if (a.startsWith('if ')) {
        const whenTrue = block(['else', 'end']);
        const whenFalse = whenTrue.stop === 'else' ? block(['end']).nodes : [];
        nodes.push({ kind: 'if', cond: a.slice(3), whenTrue: whenTrue.nodes, whenFalse });
        continue;
      }
      const assign = /^\$(\w+)\s*:=\s*(.+)$/.exec(a);
      if (assign) {
        nodes.push({ kind: 'assign', name: assign[1]!, expr: assign[2]! });
        continue;
      }
      const tpl = /^template\s+"([^"]+)"\s+\.$/.exec(a);
      if (tpl) {
        nodes.push({ kind: 'template', name: tpl[1]! });
        continue;
      }
      nodes.push({ kind: 'output', expr: a });
    }
    if (stopAt.length > 0) throw new Error(`missing {{ ${stopAt.join(' or ')} }}`);
    return { nodes, stop: '' };
  };
  return block([]).nodes;
}

function words(command: string): string[] {
  return command.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
}

const FUNCTIONS: Record<string, (...args: Value[]) => Value> = {
  printf: (format, ...args) => {
    let n = 0;
    return String(format).replace(/%[sdv]/g, () => text(args[n++]));
  },
  default: (fallback, value) => (truthy(value) ? value : fallback),
  replace: (from, to, value) => String(value).split(String(from)).join(String(to)),
  quote: (value) => JSON.stringify(text(value)),
};

function truthy(v: Value): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Go's `%v` as Helm prints it; a missing value prints nothing. */
function text(v: Value): string {
  if (v === undefined || v === null) return '';
  return String(v);
}

export function renderGoTemplate(source: string, root: Value, helpers: Helpers = {}): string {
  const vars = new Map<string, Value>();
  const operand = (word: string): Value => {
    if (word.startsWith('"')) return JSON.parse(word);
    if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
    if (word === '.') return root;
    if (word.startsWith('$')) return vars.get(word.slice(1));
    if (word.startsWith('.')) {
      let cur: Value = root;
      for (const key of word.slice(1).split('.')) {
        cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, Value>)[key] : undefined;
      }
      return cur;
    }
    throw new Error(`unsupported operand: ${word}`);
  };
  const evaluate = (expr: string): Value => {
    let piped: { value: Value } | undefined;
    for (const command of expr.split('|').map((c) => c.trim())) {
      const [head, ...rest] = words(command);
      if (head === undefined) throw new Error(`empty command in: ${expr}`);
      const fn = FUNCTIONS[head];
      if (fn) {
        const args = rest.map(operand);
        piped = { value: fn(...(piped ? [...args, piped.value] : args)) };
      } else {
        if (piped || rest.length > 0) throw new Error(`unsupported function: ${head}`);
        piped = { value: operand(head) };
      }
    }
    return piped?.value;
  };
  const run = (nodes: Node[]): string => {
    let out = '';
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          out += node.text;
          break;
        case 'output':
          out += text(evaluate(node.expr));
          break;
        case 'assign':
          vars.set(node.name, evaluate(node.expr));
          break;
        case 'template': {
          const helper = helpers[node.name];
          if (!helper) throw new Error(`no helper template named ${node.name}`);
          out += helper(root);
          break;
        }
        case 'if':
          out += run(truthy(evaluate(node.cond)) ? node.whenTrue : node.whenFalse);
          break;
      }
    }
    return out;
  };
  return run(parse(tokenize(source)));
}
