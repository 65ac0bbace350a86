/**
 * The addon runs only on the libtorch it was compiled against: the check behind `loadNative()`, the install
 * and `doctor`, exercised with a process that really has another copy of libtorch loaded.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import test from 'ava';
import { loadNative, packageRoot } from '../src/native/binding.js';

const native = loadNative();
const info = native.runtimeInfo();

test('this process runs on the libtorch the addon was compiled against', (t) => {
  t.is(native.torchMismatch(), '');
  t.is(info.torchMismatch, '');
  t.true(info.loadedTorch.libraries.length >= 2, info.loadedTorch.libraries.join(', '));
  // "2.13.0+cpu" and "2.13.0" are one release.
  t.is(native.torchMismatch({ version: `${info.loadedTorch.version}+local` }), '');
});

test('another version or another folder is reported, with the fix', (t) => {
  const version = native.torchMismatch({ version: '9.9.0' });
  t.regex(version, /compiled against libtorch 9\.9\.0 but libtorch [0-9.]+\S* is loaded/);
  t.regex(version, /Fix: remove the LD_LIBRARY_PATH \/ LD_PRELOAD entries/);
  const folder = native.torchMismatch({ libraryDir: '/nonexistent/torch/lib' });
  t.regex(folder, /libc10\.so\S* is loaded, from outside \/nonexistent\/torch\/lib/);
  t.throws(() => native.torchMismatch({ version: 3 } as never), { message: /expected\.version must be a string/ });
});

/**
 * Links (or, across file systems, copies) the loaded libc10 and libtorch_cpu into a new folder. (Not
 * libtorch.so: a CUDA build's finds libtorch_cuda through $ORIGIN, which the copy would not have.)
 */
function otherCopyOfLibtorch(): { dir: string; preload: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-other-torch-'));
  const wanted = /^lib(c10|torch_cpu)\.so/;
  const preload: string[] = [];
  for (const lib of info.loadedTorch.libraries.filter((l) => wanted.test(basename(l)))) {
    const copy = join(dir, basename(lib));
    try {
      linkSync(lib, copy);
    } catch {
      copyFileSync(lib, copy);
    }
    preload.push(copy);
  }
  // A pip torch's libtorch_cpu finds its libgomp through $ORIGIN: the helpers next to it come along.
  for (const name of readdirSync(info.loadedTorch.libraryDir)) {
    const path = join(info.loadedTorch.libraryDir, name);
    if (/^libgomp|^libiomp/.test(name) && statSync(path).isFile()) {
      try {
        linkSync(path, join(dir, name));
      } catch {
        copyFileSync(path, join(dir, name));
      }
    }
  }
  // libc10 first: the others need it.
  preload.sort((a, b) => Number(/libc10/.test(basename(b))) - Number(/libc10/.test(basename(a))));
  return { dir, preload };
}

test('a process with another copy of libtorch loaded refuses to run it, saying which and how to fix it', (t) => {
  t.timeout(120_000);
  const { dir, preload } = otherCopyOfLibtorch();
  try {
    t.true(preload.length >= 2, `libraries to preload: ${preload.join(', ')}`);
    // The addon's DT_RPATH beats LD_LIBRARY_PATH, but not LD_PRELOAD: a library already loaded under the same
    // soname satisfies the addon's NEEDED entries, so these copies are what it runs on.
    const script = `
      import { loadNative } from './src/native/binding.ts';
      try { loadNative(); console.log('LOADED'); } catch (e) { console.log(e.code + ': ' + e.message); }`;
    const r = spawnSync(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], {
      cwd: packageRoot,
      env: { ...process.env, LD_PRELOAD: preload.join(':') },
      encoding: 'utf8',
      timeout: 110_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    t.is(r.status, 0, out);
    t.regex(out, /ERR_NATIVE_LOAD: healbert's native addon cannot run here: the addon was compiled against libtorch/, out);
    t.true(out.includes(`${preload[0] ?? '?'} is loaded, from outside`), out);
    t.regex(out, /Troubleshooting: two libtorches/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
