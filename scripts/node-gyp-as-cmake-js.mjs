#!/usr/bin/env node
// prebuildify drives a "node-gyp rebuild --release ..." command; this stands in for node-gyp and runs
// cmake-js instead, so prebuilds come from the same CMake build as a source install.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const args = process.argv.slice(2);
if (args[0] !== 'rebuild') {
  process.stderr.write(`node-gyp-as-cmake-js: only 'rebuild' is supported, got '${args[0]}'\n`);
  process.exit(2);
}
const config = args.includes('--debug') ? 'Debug' : 'Release';
const result = spawnSync(process.execPath, [cmakeJs, 'rebuild', '--config', config, '--parallel', String(availableParallelism())], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
