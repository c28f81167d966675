import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The layering rules of docs/architecture.md, checked on every `npm test`:
 * - `src/mesh/**` is domain: it never imports the Slack surface, the queue, the job handlers or approvals;
 * - product code never imports the simulation, the console or the demo (they exist for tests and `npm run demo`);
 * - product code has no import cycle, neither between files nor between folders.
 * Prints every violation and exits 1 when there is one.
 */

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const SRC = join(ROOT, 'src');
const HARNESS = ['sim', 'console', 'demo'];
const DOMAIN_MUST_NOT_IMPORT = ['slack', 'queue', 'jobs', 'approvals'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Files under `src` this file imports (type-only imports too: they tie the layers together just as much). */
function importsOf(file: string, src: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolve(dirname(file), spec))
    .filter((path) => path.startsWith(`${src}/`));
}

/** Every cycle of a directed graph, each reported once (Tarjan's strongly connected components). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

/** Every violation in the tree under `src`, one line each; none when the layering holds. */
export function checkLayers(src = SRC): string[] {
  const rel = (path: string) => relative(src, path);
  // `mesh/istio` for `src/mesh/istio/check.ts`; `.` for files at the top of src.
  const folderOf = (path: string) => dirname(rel(path));
  // The first segment under src: `mesh`, `slack`, …
  const areaOf = (path: string) => rel(path).split('/')[0] ?? '';
  const isProduct = (path: string) => !HARNESS.includes(areaOf(path));
  const problems: string[] = [];
  const files = sourceFiles(src).filter(isProduct);
  const fileGraph = new Map<string, Set<string>>();
  const folderGraph = new Map<string, Set<string>>();
  for (const file of files) {
    const targets = importsOf(file, src);
    fileGraph.set(rel(file), new Set(targets.filter(isProduct).map(rel)));
    const folders = folderGraph.get(folderOf(file)) ?? new Set<string>();
    folderGraph.set(folderOf(file), folders);
    for (const target of targets) {
      if (!isProduct(target))
        problems.push(`${rel(file)} imports ${rel(target)}: product code must not use src/${areaOf(target)}`);
      else if (folderOf(target) !== folderOf(file)) folders.add(folderOf(target));
      if (areaOf(file) === 'mesh' && DOMAIN_MUST_NOT_IMPORT.includes(areaOf(target)))
        problems.push(
          `${rel(file)} imports ${rel(target)}: src/mesh is domain and must not use src/${areaOf(target)}`,
        );
    }
  }
  for (const c of cycles(fileGraph)) problems.push(`import cycle between files: ${c.join(' ↔ ')}`);
  for (const c of cycles(folderGraph)) problems.push(`import cycle between folders: ${c.join(' ↔ ')}`);
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = checkLayers();
  for (const p of problems) console.error(p);
  if (problems.length > 0) process.exit(1);
  console.log('layers: src/mesh is domain, product code uses no test harness, no import cycles');
}
