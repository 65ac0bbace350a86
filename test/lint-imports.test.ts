// scripts/lint-imports.mjs (part of `npm run lint`): it must fail on a circle of imports, or it could pass
// silently. Each test writes a tiny TypeScript folder and runs the script on it as `npm run lint` does.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const script = join(root, 'scripts', 'lint-imports.mjs');

/** Writes `files` (path -> text) into a scratch folder, runs the lint on its src/ there, and cleans up. */
function lint(files: Record<string, string>): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-lint-imports-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const r = spawnSync(process.execPath, [script, 'src'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// a -> b (a value import written over several lines), b -> c (a type-only import, in a subfolder),
// c -> a (a re-export): one circle of three files, whatever kind of import closes it.
const circle = {
  'src/a.ts': "import {\n  b,\n  type B,\n} from './b.js';\nexport const a = (x: B) => b + x;\n",
  'src/b.ts': "import type { C } from './deep/c.js';\nexport const b = 1;\nexport type B = C;\n",
  'src/deep/c.ts': "export * from '../a.js';\nexport type C = number;\n",
  // Not edges: a package, a file outside src/, and an import written in a comment or a string.
  'src/d.ts':
    "import { readFile } from 'node:fs/promises';\nimport { x } from '../outside.js';\n// import { a } from './a.js';\nexport const d = [readFile, x, \"import { b } from './b.js'\"];\n",
  'outside.ts': "import { d } from './src/d.js';\nexport const x = d;\n",
};

test('lint-imports fails on a circle of imports and names its files in order', (t) => {
  const r = lint(circle);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /import cycle: src\/a\.ts -> src\/b\.ts -> src\/deep\/c\.ts -> src\/a\.ts/);
  t.regex(r.stderr, /1 import cycle\b/);
  t.notRegex(r.stderr, /d\.ts/);
});

test('lint-imports finds a circle made of type imports only', (t) => {
  const r = lint({
    'src/html.ts': "import type { Rendered } from './render.js';\nexport const html = (r: Rendered) => r.svg;\n",
    'src/render.ts': "import type { html } from './html.js';\nexport interface Rendered { svg: string; html?: typeof html }\n",
  });
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /import cycle: src\/html\.ts -> src\/render\.ts -> src\/html\.ts \(type imports only/);
});

test('lint-imports passes once the circle is cut', (t) => {
  const r = lint({ ...circle, 'src/deep/c.ts': 'export type C = number;\n' });
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
});

test("healbert's own src/ has no import cycle", (t) => {
  const r = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  t.is(r.status, 0, r.stderr);
});
