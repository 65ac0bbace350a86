import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadNative, packageRoot } from '../src/native/binding.js';

/** Runs only CMake's configure step of the addon in a scratch folder. */
function configure(env: NodeJS.ProcessEnv, cacheArgs: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-cmake-'));
  try {
    const clean: NodeJS.ProcessEnv = { ...process.env, LIBTORCH: '', Torch_DIR: '', CMAKE_PREFIX_PATH: '', ...env };
    for (const [k, v] of Object.entries(clean)) if (v === '') delete clean[k];
    const r = spawnSync('cmake', ['-S', packageRoot, '-B', dir, ...cacheArgs], { env: clean, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The TorchConfig.cmake folder the addon itself was built from (Debian's here, PyTorch's on the GPU machine).
const builtTorchSource = loadNative().runtimeInfo().torchSource;
const builtTorchDir = builtTorchSource.slice(builtTorchSource.indexOf(': ') + 2);

test('when no libtorch is found, configure fails listing every place it tried', (t) => {
  const r = configure({}, ['-DHEALBERT_DEBIAN_TORCH_DIR=/nonexistent/Torch']);
  t.not(r.status, 0);
  t.regex(r.output, /libtorch not found/);
  for (const tried of [
    'LIBTORCH: not set',
    'Torch_DIR / CMAKE_PREFIX_PATH: not set',
    'python3',
    'Debian libtorch-dev: no TorchConfig.cmake in /nonexistent/Torch',
  ]) {
    t.true(r.output.includes(tried), tried);
  }
});

test('an unusable LIBTORCH is an error, not a silent fallback', (t) => {
  const r = configure({ LIBTORCH: '/nonexistent/libtorch' });
  t.not(r.status, 0);
  t.regex(r.output, /LIBTORCH is set but unusable/);
});

test('LIBTORCH pointing at a TorchConfig.cmake folder wins', (t) => {
  const r = configure({ LIBTORCH: builtTorchDir });
  t.is(r.status, 0, r.output);
  t.true(r.output.includes(`from LIBTORCH: ${builtTorchDir}`), r.output);
});
