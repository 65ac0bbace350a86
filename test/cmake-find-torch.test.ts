import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { loadNative, packageRoot } from '../src/native/binding.js';

/** Runs only CMake's configure step of the addon in a scratch folder; returns the cache entries asked for. */
function configure(env: NodeJS.ProcessEnv, cacheArgs: string[] = [], cacheVars: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-cmake-'));
  try {
    const clean: NodeJS.ProcessEnv = { ...process.env, LIBTORCH: '', Torch_DIR: '', CMAKE_PREFIX_PATH: '', ...env };
    for (const [k, v] of Object.entries(clean)) if (v === '') delete clean[k];
    const r = spawnSync('cmake', ['-S', packageRoot, '-B', dir, ...cacheArgs], { env: clean, encoding: 'utf8', timeout: 120_000 });
    const cache: Record<string, string> = {};
    const cacheFile = join(dir, 'CMakeCache.txt');
    const text = existsSync(cacheFile) ? readFileSync(cacheFile, 'utf8') : '';
    for (const name of cacheVars) {
      const m = new RegExp(`^${name}:[A-Z]+=(.*)$`, 'm').exec(text);
      if (m?.[1] !== undefined) cache[name] = m[1];
    }
    return { status: r.status, output: `${r.stdout}${r.stderr}`, cache };
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

/**
 * A stand-in libtorch: the parts of PyTorch's TorchConfig.cmake that choose libraries (Caffe2's config by
 * find_package with a PATHS hint, libtorch.so by find_library with a PATHS hint, both of which CMake
 * searches only after the system prefixes), empty library files, and a torch/all.h with the C++ guard.
 * `c10Dir` is where its Caffe2 config says libc10 lives (its own lib/ unless a test says otherwise).
 */
function fakeTorch(root: string, c10Dir?: string): string {
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  for (const lib of ['libc10.so', 'libtorch_cpu.so', 'libtorch.so']) write(`lib/${lib}`, '');
  write('include/torch/all.h', '#if !defined(__cplusplus) || __cplusplus < 201703L\n#error C++17 or later\n#endif\n');
  write(
    'share/cmake/Torch/TorchConfig.cmake',
    `get_filename_component(TORCH_INSTALL_PREFIX "\${CMAKE_CURRENT_LIST_DIR}/../../../" ABSOLUTE)
set(TORCH_INCLUDE_DIRS "\${TORCH_INSTALL_PREFIX}/include")
find_package(Caffe2 REQUIRED PATHS "\${CMAKE_CURRENT_LIST_DIR}/../Caffe2")
find_library(TORCH_LIBRARY torch PATHS "\${TORCH_INSTALL_PREFIX}/lib")
add_library(torch UNKNOWN IMPORTED)
set_target_properties(torch PROPERTIES IMPORTED_LOCATION "\${TORCH_LIBRARY}" INTERFACE_INCLUDE_DIRECTORIES "\${TORCH_INCLUDE_DIRS}")
set(TORCH_LIBRARIES torch \${Caffe2_MAIN_LIBS})
set(Torch_VERSION 0.0.1)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Torch DEFAULT_MSG TORCH_LIBRARY TORCH_INCLUDE_DIRS)
`,
  );
  write(
    'share/cmake/Caffe2/Caffe2Config.cmake',
    `message(STATUS "stand-in Caffe2 config: \${CMAKE_CURRENT_LIST_DIR}")
add_library(c10 SHARED IMPORTED)
set_target_properties(c10 PROPERTIES IMPORTED_LOCATION "${c10Dir ?? join(root, 'lib')}/libc10.so")
add_library(torch_cpu SHARED IMPORTED)
set_target_properties(torch_cpu PROPERTIES IMPORTED_LOCATION "\${CMAKE_CURRENT_LIST_DIR}/../../../lib/libtorch_cpu.so" INTERFACE_LINK_LIBRARIES c10)
set(Caffe2_MAIN_LIBS torch_cpu)
set(Caffe2_FOUND TRUE)
`,
  );
  return root;
}

// On a machine with Debian's libtorch-dev (as CI has), /usr/lib/<multiarch>/cmake/Caffe2 and
// /usr/lib/<multiarch>/libtorch.so are found before the PATHS hints: the chosen torch got Debian's Caffe2
// targets and libtorch.so (issue: "the addon's libraries resolve to Debian's 1.13").
test("a chosen libtorch gets its own Caffe2 config and libtorch.so, not the system's", (t) => {
  const root = fakeTorch(mkdtempSync(join(tmpdir(), 'healbert-faketorch-')));
  try {
    const r = configure({ LIBTORCH: root }, [], ['Caffe2_DIR', 'TORCH_LIBRARY']);
    t.is(r.status, 0, r.output);
    t.true(r.output.includes(`stand-in Caffe2 config: ${root}/share/cmake/Caffe2`), r.output);
    t.is(r.cache.Caffe2_DIR, `${root}/share/cmake/Caffe2`);
    t.is(r.cache.TORCH_LIBRARY, `${root}/lib/libtorch.so`);
    t.true(r.output.includes(`libraries in ${root}/lib`), r.output);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('configure fails when a torch library target lies outside the chosen libtorch', (t) => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'healbert-otherc10-'));
  const root = fakeTorch(mkdtempSync(join(tmpdir(), 'healbert-faketorch-')), elsewhere);
  try {
    const r = configure({ LIBTORCH: root });
    t.not(r.status, 0, r.output);
    t.regex(r.output, /is not used whole/);
    t.true(r.output.includes(`c10 -> ${elsewhere}/libc10.so`), r.output);
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  }
});
