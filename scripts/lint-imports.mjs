#!/usr/bin/env node
// Import-cycle lint: fails when the TypeScript modules under a folder (default src/) import each other in a
// circle. `node scripts/lint-imports.mjs [folder...]`; exit status 1 and one line per cycle when there is one.
//
// Every relative import and re-export counts, `import type` and `export type ... from` included. Those are
// erased from the JavaScript, so a circle made only of them cannot break module loading; they still count
// because the rule is about the code's shape, not its load order: a type belongs to the module that owns it,
// and a module that needs a type from its own caller (report/html.ts from report/render.ts) is a circle a
// reader has to walk around all the same. Dynamic import() counts too (it postpones a load, not a dependency).
//
// No dependencies: the imports are read with regular expressions anchored at the start of a line, which is
// where Biome's formatting puts every import and export statement. A relative specifier resolves as
// TypeScript's NodeNext resolution does for this project: './x.js' is './x.ts' (or .tsx; '.mjs' is '.mts'),
// and a specifier naming an existing file is that file. Imports of packages and of files outside the folder
// are not edges.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SOURCE = /\.(ts|tsx|mts|cts)$/;
// import x from '...';  import { a, type B } from '...';  import type { C } from '...';  import * as d from '...'
const IMPORT = /^[ \t]*import\s+(type\s+)?([\w$*{}\s,]*?)\s*from\s*['"]([^'"\n]+)['"]/gm;
// export * from '...';  export * as e from '...';  export { f, type G } from '...';  export type { H } from '...'
const EXPORT = /^[ \t]*export\s+(type\s+)?(\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*['"]([^'"\n]+)['"]/gm;
// import './side-effect.js'
const SIDE_EFFECT = /^[ \t]*import\s*['"]([^'"\n]+)['"]/gm;
// await import('./lazy.js')
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;

/** Every TypeScript source file under `folder` (declaration files excluded), sorted. */
function sourceFiles(folder) {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && SOURCE.test(e.name) && !/\.d\.[mc]?ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The module specifiers a source text imports or re-exports, each with whether it is type-only. */
export function importsOf(text) {
  const found = [];
  for (const m of text.matchAll(IMPORT)) found.push({ specifier: m[3], typeOnly: Boolean(m[1]) });
  for (const m of text.matchAll(EXPORT)) found.push({ specifier: m[3], typeOnly: Boolean(m[1]) });
  for (const m of text.matchAll(SIDE_EFFECT)) found.push({ specifier: m[1], typeOnly: false });
  for (const m of text.matchAll(DYNAMIC)) found.push({ specifier: m[1], typeOnly: false });
  return found;
}

/** The file a relative specifier names (NodeNext: './x.js' is './x.ts'), or undefined when none exists. */
function resolveSpecifier(fromFile, specifier) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const target = resolve(dirname(fromFile), specifier);
  const candidates = [];
  if (/\.js$/.test(target)) candidates.push(target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'));
  if (/\.mjs$/.test(target)) candidates.push(target.replace(/\.mjs$/, '.mts'));
  if (/\.cjs$/.test(target)) candidates.push(target.replace(/\.cjs$/, '.cts'));
  candidates.push(target);
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** The import graph of the folder: file -> the files under the folder it imports (with the edge's kind). */
export function importGraph(folder) {
  const root = resolve(folder);
  const files = sourceFiles(root);
  const inside = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const edges = new Map();
    for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
      const to = resolveSpecifier(file, specifier);
      if (to === undefined || !inside.has(to)) continue;
      // A value import anywhere makes the edge a value edge.
      edges.set(to, (edges.get(to) ?? true) && typeOnly);
    }
    graph.set(file, edges);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan's algorithm). */
function circles(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.has(v)) out.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** One shortest circle through `start` inside `component` (breadth-first), as a list of files ending at start. */
function circleThrough(graph, component, start) {
  const members = new Set(component);
  const previous = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = previous.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/**
 * The import cycles among the TypeScript files under `folder`: one per set of files that import each other
 * in a circle, each as { files, cycle } (the set, and one circle through its first file as a path a -> b -> a),
 * paths relative to `base` (default: the current folder). An empty list when there is none.
 */
export function findImportCycles(folder, base = process.cwd()) {
  const graph = importGraph(folder);
  return circles(graph).map((component) => {
    const cycle = circleThrough(graph, component, component[0]);
    const typeOnly = cycle.slice(1).every((to, i) => graph.get(cycle[i]).get(to));
    return {
      files: component.map((f) => relative(base, f)),
      cycle: cycle.map((f) => relative(base, f)),
      typeOnly,
    };
  });
}

function main() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const folders = process.argv.slice(2);
  let found = 0;
  for (const folder of folders.length > 0 ? folders : [join(root, 'src')]) {
    for (const c of findImportCycles(folder)) {
      found += 1;
      const note = c.typeOnly ? ' (type imports only: move the types into the module that owns them)' : '';
      process.stderr.write(`lint-imports: import cycle: ${c.cycle.join(' -> ')}${note}\n`);
      if (c.files.length > c.cycle.length - 1)
        process.stderr.write(`  (the circle joins ${c.files.length} files: ${c.files.join(', ')})\n`);
    }
  }
  if (found > 0) {
    process.stderr.write(
      `lint-imports: ${found} import cycle${found === 1 ? '' : 's'}; a module may not import, directly or not, a module that imports it\n`,
    );
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
