#!/usr/bin/env node
// Builds prebuilds/<platform>-<arch>/healbert.napi.node with prebuildify (one Node-API binary serves every
// Node version >= 20). The binary is linked against the libtorch found at build time (see the README:
// a prebuild only helps users with the same libtorch; others build from source automatically).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const prebuildify = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js');
const shim = join(root, 'scripts', 'node-gyp-as-cmake-js.mjs');
const result = spawnSync(process.execPath, [prebuildify, '--napi', '--strip', '--tag-libc', `--node-gyp=${shim}`], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
