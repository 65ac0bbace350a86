import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { readSweep } from '../../src/analysis/load.js';
import { measureCells } from '../../src/analysis/quantities.js';
import type { CellResult } from '../../src/sweep/types.js';
import { writeSyntheticSweep } from './helpers/synthetic-sweep.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-load-'));
  dirs.push(dir);
  return dir;
};
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('index.jsonl and cells/*/result.json give the same cells; cells missing from the index still count', async (t) => {
  const a = tempDir();
  const b = tempDir();
  writeSyntheticSweep(a, { index: 40 });
  writeSyntheticSweep(b);
  const [fromIndex, fromResults] = await Promise.all([readSweep(a), readSweep(b)]);
  t.is(fromIndex.source, 'index.jsonl');
  t.is(fromResults.source, 'result.json');
  // Ids differ (each folder has its own model path); labels, seeds, states and scores do not.
  const shape = (s: typeof fromIndex) =>
    s.cells
      .map((c) => `${c.config.corruption?.label ?? 'clean'}|${c.config.seed}|${c.status}|${c.result?.scores.final?.accuracy ?? ''}`)
      .sort();
  t.deepEqual(shape(fromIndex), shape(fromResults));
  t.is(fromIndex.cells.filter((c) => c.status === 'running').length, 1);
  t.is(fromIndex.cells.filter((c) => c.status === 'pending').length, 1);
  t.is(fromIndex.spec?.name, 'synthetic');
});

test('a torn last line of index.jsonl (a write in progress) is skipped; a bad line elsewhere is ERR_DATA with file and line', async (t) => {
  const dir = tempDir();
  const { results } = writeSyntheticSweep(dir, { index: 3 });
  const index = join(dir, 'index.jsonl');
  appendFileSync(index, JSON.stringify(results[3]).slice(0, 50));
  t.is((await readSweep(dir)).cells.length, 100);
  writeFileSync(index, `${JSON.stringify(results[0])}\n{"format": 1, oops\n${JSON.stringify(results[1])}\n`);
  await t.throwsAsync(readSweep(dir), { code: 'ERR_DATA', message: /index\.jsonl:2: not valid JSON/ });
  writeFileSync(index, `${JSON.stringify({ ...results[0], format: 2 })}\n`);
  await t.throwsAsync(readSweep(dir), { code: 'ERR_DATA', message: /index\.jsonl:1: not a cell result \(format 2, expected 1\)/ });
});

test('unreadable result and config files are ERR_DATA naming the file', async (t) => {
  const dir = tempDir();
  writeSyntheticSweep(dir);
  const id = readdirSync(join(dir, 'cells'))[0] as string;
  writeFileSync(join(dir, 'cells', id, 'result.json'), '{"format": 1');
  await t.throwsAsync(readSweep(dir), { code: 'ERR_DATA', message: new RegExp(`cells/${id}/result\\.json: not valid JSON`) });
  rmSync(join(dir, 'cells', id, 'result.json'));
  writeFileSync(join(dir, 'cells', id, 'config.json'), JSON.stringify({ protocol: 'other' }));
  await t.throwsAsync(readSweep(dir), { code: 'ERR_DATA', message: /config\.json: not a cell config \(protocol "other"\)/ });
  const empty = tempDir();
  await t.throwsAsync(readSweep(empty), { code: 'ERR_DATA', message: /neither cells\/ nor index\.jsonl/ });
  mkdirSync(join(empty, 'cells', 'starting'), { recursive: true });
  t.deepEqual((await readSweep(empty)).cells, [], 'a cell folder without config.json is being created');
});

test('a cell not finished yet is read from the config.json a sweep writes ({ id, baselineId, config }), not only from a bare config', async (t) => {
  const dir = tempDir();
  writeSyntheticSweep(dir, { clean: true });
  const id = readdirSync(join(dir, 'cells'))[0] as string;
  const config = JSON.parse(readFileSync(join(dir, 'cells', id, 'config.json'), 'utf8'));
  rmSync(join(dir, 'cells', id, 'result.json'));
  // As src/sweep/store.ts initSweepDir writes it.
  writeFileSync(join(dir, 'cells', id, 'config.json'), JSON.stringify({ id, baselineId: null, config }, null, 2));
  const cell = (await readSweep(dir)).cells.find((c) => c.id === id);
  t.is(cell?.status, 'pending');
  t.deepEqual(cell?.config, config);
});

test('quantities: baselines by id or by configuration; missing and unfinished baselines are said, not guessed', async (t) => {
  const dir = tempDir();
  writeSyntheticSweep(dir, { clean: true, noise: 0 });
  const sweep = await readSweep(dir);
  const corrupted = sweep.cells.find((c) => c.config.corruption?.label === 'reinit bottom:1' && c.config.seed === 1);
  const clean = sweep.cells.find((c) => c.config.corruption === null && c.config.seed === 1);
  if (!corrupted?.result || !clean?.result) throw new Error('fixture');
  const byId = measureCells([clean, corrupted]);
  // damage = w0 = 0.2, gap = 0.3 * 0.2, ratio = (0.2 - 0.06) / 0.2 = 0.7
  t.true(Math.abs((byId[1]?.damage as number) - 0.2) < 1e-12);
  t.true(Math.abs((byId[1]?.residualGap as number) - 0.06) < 1e-12);
  t.true(Math.abs((byId[1]?.recoveryRatio as number) - 0.7) < 1e-12);
  const withoutId = { ...corrupted, result: { ...corrupted.result, baselineId: null } as CellResult };
  t.deepEqual(measureCells([clean, withoutId])[1]?.damage, byId[1]?.damage, 'found by configuration');
  t.is(measureCells([withoutId])[0]?.note, 'clean baseline missing');
  const running = { ...clean, status: 'running' as const, result: undefined };
  const { result: _r, ...runningCell } = running;
  const m = measureCells([runningCell, corrupted]);
  t.is(m[1]?.note, 'clean baseline running');
  t.is(m[1]?.damage, null);
  t.is(m[0]?.note, 'in flight');
  t.is(measureCells([clean, corrupted], { minDamage: 0.5 })[1]?.recoveryRatio, null, 'damage below minDamage: no ratio');
  const raw = JSON.parse(readFileSync(join(dir, 'cells', corrupted.id, 'result.json'), 'utf8')) as CellResult;
  t.is(raw.id, corrupted.id);
});
