#!/usr/bin/env node
// C++ lint: clang-format (from the npm package, so no system install) must leave native/ unchanged.
// `node scripts/lint-cpp.mjs --fix` rewrites the files instead.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const clangFormat = join(dirname(require.resolve('clang-format/package.json')), 'index.js');
const files = readdirSync(join(root, 'native'), { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && /\.(cc|h)$/.test(e.name))
  .map((e) => join(e.parentPath, e.name));
const fix = process.argv.includes('--fix');
const args = fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
const result = spawnSync(process.execPath, [clangFormat, '--style=file', ...args], { cwd: root, stdio: 'inherit' });
if (result.status !== 0 && !fix) process.stderr.write('lint-cpp: formatting differs; run `node scripts/lint-cpp.mjs --fix`\n');
process.exit(result.status ?? 1);
