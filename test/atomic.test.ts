/**
 * Concurrent writers of one entry: every write-then-rename has its own temporary file, so writers in one
 * process (concurrent promises) and in several processes all succeed, and the entry is always whole.
 * Before, the tokenization cache named its temporary file `<key>.bin.<pid>.tmp`: two writes of one entry in
 * one process shared it, and the second rename failed with ENOENT.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { temporaryPathFor, writeAtomic } from '../src/atomic.js';
import { readCached, writeCached } from '../src/data/cache.js';
import { tokenizeSplit } from '../src/data/tokenize-split.js';
import { writeResult } from '../src/sweep/store.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { fixtures, tempTree } from './data/helpers.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'healbert-atomic-'));

test('temporary names are unique per write, not per process', (t) => {
  const names = new Set(Array.from({ length: 100 }, () => temporaryPathFor('/x/entry.bin')));
  t.is(names.size, 100);
});

test('tokenization cache: concurrent writes of one entry in one process all succeed and leave it whole', async (t) => {
  const root = tempTree({ 'RTE/dev.tsv': 'index\tsentence1\tsentence2\tlabel\n0\tA man sleeps.\tHe rests.\tentailment\n' });
  const bert = await loadTokenizer(join(fixtures, 'tokenizer', 'models', 'bert-base-uncased'));
  const cacheDir = join(root, 'cache');
  const options = { tokenizer: bert, task: 'rte', dataRoot: root, split: 'dev', maxLength: 16, cacheDir };
  const runs = await Promise.all(Array.from({ length: 8 }, () => tokenizeSplit(options)));
  for (const run of runs) t.deepEqual(run.dataset, (runs[0] as (typeof runs)[0]).dataset);
  t.true((await tokenizeSplit(options)).cached);
  t.deepEqual(
    readdirSync(cacheDir).filter((f) => f.includes('.tmp')),
    [],
    'no temporary file is left behind',
  );
});

test('tokenization cache: writeCached of one key from concurrent promises, then a whole read', async (t) => {
  const dir = tempDir();
  const dataset = {
    size: 2,
    offsets: Int32Array.from([0, 2, 5]),
    ids: Int32Array.from([101, 102, 101, 7, 102]),
    typeIds: Uint8Array.from([0, 0, 0, 0, 0]),
    labels: Int32Array.from([0, 1]),
    isRegression: false,
    padId: 0,
    maxLength: 8,
    tokenizerHash: 'h',
  };
  await Promise.all(Array.from({ length: 16 }, (_, i) => writeCached(dir, 'entry', dataset, { writer: i })));
  const read = await readCached(dir, 'entry');
  t.truthy(read);
  t.deepEqual(Array.from(read?.dataset.ids ?? []), Array.from(dataset.ids));
});

test('writeAtomic from several processes at once: every write lands whole, none fails', async (t) => {
  const dir = tempDir();
  const target = join(dir, 'result.json');
  const writer = `
    import { writeAtomic } from ${JSON.stringify(new URL('../src/atomic.ts', import.meta.url).href)};
    const id = process.argv[1];
    for (let i = 0; i < 40; i++) await writeAtomic(${JSON.stringify(target)}, JSON.stringify({ id, i, pad: 'x'.repeat(20000) }));
  `;
  const codes = await Promise.all(
    ['a', 'b', 'c'].map(
      (id) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer, id], { stdio: 'inherit' });
          child.on('exit', resolve);
        }),
    ),
  );
  t.deepEqual(codes, [0, 0, 0]);
  const last = JSON.parse(readFileSync(target, 'utf8')) as { id: string; i: number };
  t.is(last.i, 39);
  t.deepEqual(
    readdirSync(dir).filter((f) => f !== 'result.json'),
    [],
  );
  await writeAtomic(target, 'done');
  t.is(readFileSync(target, 'utf8'), 'done');
});

test('sweep results: concurrent writes of one cell result do not collide', async (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, 'cells', 'cell-1'), { recursive: true });
  const result = { id: 'cell-1', status: 'done' } as unknown as Parameters<typeof writeResult>[1];
  await Promise.all(Array.from({ length: 8 }, () => writeResult(dir, result)));
  t.deepEqual(JSON.parse(readFileSync(join(dir, 'cells', 'cell-1', 'result.json'), 'utf8')), result);
});
