#!/usr/bin/env node
// healbert's install step (package.json "install"). node-gyp-build's own install command falls back to
// node-gyp, which cannot build a CMake project, so this script does the two steps itself:
//
//   1. a prebuilt binary in prebuilds/<platform>-<arch>/ that loads here (checked in a child process, so a
//      binary built against another libtorch cannot crash the install);
//   2. otherwise a source build with cmake-js against the libtorch that cmake/FindHealbertTorch.cmake finds.
//
// After building, the addon is loaded in a child process and asked which libtorch it was compiled against
// and which one it has loaded (version and folder); the install fails, with the fix, when they differ.
//
// Flags: --from-source (skip step 1), --out <folder> (build folder, default build/; the addon lands in
// <folder>/Release/healbert.node, loaded with HEALBERT_ADDON=<that file>). Environment: LIBTORCH (implies
// --from-source: the user chose a libtorch), HEALBERT_BUILD_FROM_SOURCE=1, HEALBERT_BUILD_JOBS=<n>,
// HEALBERT_BUILD_TYPE=Debug|Release, TORCH_CUDA_ARCH_LIST (CUDA builds; default 8.0;8.6;8.9;9.0+PTX).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const log = (message) => process.stderr.write(`healbert install: ${message}\n`);

/** Loads an addon file in a fresh process and returns its runtime info, or the reason it failed. */
function probe(file) {
  const code = `const b = require(${JSON.stringify(file)}); process.stdout.write(JSON.stringify(b.runtimeInfo()));`;
  const result = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 120_000 });
  if (result.status === 0) {
    try {
      return { ok: true, info: JSON.parse(result.stdout) };
    } catch {
      // fall through: unreadable output is a failure
    }
  }
  const reason = (result.stderr || result.error?.message || `exit status ${result.status}`)
    .trim()
    .split('\n')
    .find((l) => /error|cannot|undefined/i.test(l));
  return { ok: false, reason: reason ?? `exit status ${result.status}` };
}

function findPrebuild() {
  const folder = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(folder)) return undefined;
  const file = readdirSync(folder).find((name) => name.endsWith('.node'));
  return file ? join(folder, file) : undefined;
}

function which(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

function checkToolchain() {
  const missing = [];
  if (!which('cmake')) missing.push('cmake');
  if (!which('c++') && !which('g++') && !which('clang++')) missing.push('a C++17 compiler (g++)');
  if (missing.length) {
    log(`cannot build from source: ${missing.join(' and ')} not found on PATH.`);
    log('On Debian/Ubuntu run `sudo scripts/bootstrap-debian.sh` (installs cmake, g++ and libtorch-dev), then reinstall.');
    process.exit(1);
  }
}

function buildFromSource(outDir) {
  checkToolchain();
  const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const jobs = process.env.HEALBERT_BUILD_JOBS || String(availableParallelism());
  // CMake caches the libtorch it found; when the user's choice changed, start from a clean build folder.
  const stamp = join(outDir, 'healbert-torch-choice.json');
  const choice = JSON.stringify({
    LIBTORCH: process.env.LIBTORCH ?? '',
    Torch_DIR: process.env.Torch_DIR ?? '',
    CMAKE_PREFIX_PATH: process.env.CMAKE_PREFIX_PATH ?? '',
  });
  const previous = existsSync(stamp) ? readFileSync(stamp, 'utf8') : undefined;
  // A configure step that failed leaves a CMakeCache.txt without build files; cmake-js `build` would then
  // skip configuring and fail with a confusing message, so start over.
  const configured = existsSync(join(outDir, 'build.ninja')) || existsSync(join(outDir, 'Makefile'));
  const changed = previous !== undefined && previous !== choice;
  const verb = configured && !changed ? 'build' : 'rebuild';
  if (changed) log('the libtorch settings changed since the last build; rebuilding from scratch');
  const args = [cmakeJs, verb, '--log-level', 'warn', '--parallel', jobs, '--out', outDir];
  if (process.env.HEALBERT_BUILD_TYPE) args.push('--config', process.env.HEALBERT_BUILD_TYPE);
  log(`building the native addon from source with cmake-js (${jobs} jobs; the first build takes a few minutes)`);
  // ccache (when installed) keys compilations relative to the checkout, so another clone reuses them.
  const env = { ...process.env, CCACHE_BASEDIR: process.env.CCACHE_BASEDIR ?? root };
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) {
    log('the native build failed. Common causes (details in the README, "Troubleshooting"):');
    log('  - libtorch not found: install libtorch-dev, `pip install torch`, or set LIBTORCH=/path/to/libtorch');
    log('  - C++ ABI mismatch: use a cxx11-ABI libtorch (the pre-cxx11 zip from pytorch.org will not link)');
    log('  - CUDA libtorch without the CUDA toolkit: install the matching CUDA toolkit (nvcc), or use a CPU libtorch');
    process.exit(result.status ?? 1);
  }
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, choice);
  const built = join(outDir, 'Release', 'healbert.node');
  // (the stamp is written only after a successful build, so a failed one is retried from scratch)
  const check = probe(built);
  if (!check.ok) {
    log(`the addon was built but does not load: ${check.reason}`);
    process.exit(1);
  }
  const info = check.info;
  if (info.torchMismatch) {
    log(`FAILED: ${info.torchMismatch}`);
    process.exit(1);
  }
  const cuda = info.builtWithCuda ? (info.cudaAvailable ? 'CUDA available' : 'built with CUDA, no device') : 'CPU only';
  log(`built against libtorch ${info.torchVersion} (${info.torchSource}), C++${info.cxxStandard}; ${cuda}`);
  log(`loaded libtorch ${info.loadedTorch.version} from ${info.loadedTorch.libraryDir}: the same`);
}

function main() {
  const outAt = process.argv.indexOf('--out');
  if (outAt >= 0 && !process.argv[outAt + 1]) {
    log('--out needs a folder');
    process.exit(2);
  }
  const outDir = outAt >= 0 ? resolve(process.argv[outAt + 1]) : join(root, 'build');
  const fromSource =
    outAt >= 0 || process.argv.includes('--from-source') || process.env.HEALBERT_BUILD_FROM_SOURCE === '1' || Boolean(process.env.LIBTORCH);
  const prebuild = fromSource ? undefined : findPrebuild();
  if (prebuild) {
    const check = probe(prebuild);
    if (check.ok && !check.info.torchMismatch) {
      log(`using the prebuilt addon ${prebuild.slice(root.length + 1)} (libtorch ${check.info.torchVersion})`);
      process.exit(0);
    }
    const why = check.ok ? check.info.torchMismatch : check.reason;
    log(`the prebuilt addon does not fit here (${why}); building from source instead`);
  }
  buildFromSource(outDir);
}

main();
