/**
 * index.jsonl kept as cells finish: appends under a lock from many processes, a torn tail cut off, the last
 * line of a cell winning, and status and export reading the index instead of every result file. Synthetic
 * folders (bench/synthetic-results.ts) in the results format; no training.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { writeSyntheticFolder } from '../../bench/synthetic-results.js';
import { readSweep as readForAnalysis } from '../../src/analysis/load.js';
import { packageRoot } from '../../src/native/binding.js';
import { exportResults, sweepStatus } from '../../src/sweep/export.js';
import { appendToIndex, forEachIndexLine, indexPath, lineId } from '../../src/sweep/index-file.js';
import type { CellResult } from '../../src/sweep/types.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';

/** 2 seeds x (clean + gaussian at 5 levels on 13 layer sets): 132 cells, some diverged, failed or unfinished. */
const DESIGN = { seeds: 2, exact: 0, dose: true, heads: false, permutations: 0, unfinished: 0.03 };

const indexLines = (dir: string) => readFileSync(indexPath(dir), 'utf8').split('\n').filter(Boolean);
const resultOf = (dir: string, id: string) => JSON.parse(readFileSync(join(dir, 'cells', id, 'result.json'), 'utf8')) as CellResult;

test('status reads the index, not the result files, and adds the results the index lacks to it', async (t) => {
  const dir = tempDir();
  const written = writeSyntheticFolder(dir, DESIGN);
  const before = await sweepStatus(dir);
  t.is(before.cells.length, written.cells);
  t.is(before.counts.done + before.counts.diverged + before.counts.failed, written.finished);
  t.true(before.counts.pending > 0 && before.counts.failed > 0, 'the design has unfinished and failed cells');
  // Every result file in the index made unreadable: status does not notice.
  const lines = indexLines(dir);
  for (const line of lines) writeFileSync(join(dir, 'cells', lineId(line) as string, 'result.json'), '{ not json');
  t.deepEqual((await sweepStatus(dir)).counts, before.counts);
  // A result the index lacks (its worker died before appending) is read from its folder and appended.
  const [last, ...rest] = [...lines].reverse();
  const id = lineId(last as string) as string;
  writeFileSync(indexPath(dir), `${rest.reverse().join('\n')}\n`);
  writeFileSync(join(dir, 'cells', id, 'result.json'), `${last}\n`);
  t.deepEqual((await sweepStatus(dir)).counts, before.counts);
  t.is(lineId(indexLines(dir).at(-1) as string), id, 'appended to the index');
  t.is(indexLines(dir).length, lines.length);
});

test("a cell's last index line wins (a failed cell retried); a torn tail is skipped by readers and cut off by the next append", async (t) => {
  const dir = tempDir();
  writeSyntheticFolder(dir, DESIGN);
  const failed = indexLines(dir)
    .map((l) => JSON.parse(l) as CellResult)
    .find((r) => r.status === 'failed') as CellResult;
  t.truthy(failed);
  const retried: CellResult = { ...failed, status: 'done', scores: { probe: { accuracy: 0.5 }, epochs: [], final: { accuracy: 0.75 } } };
  delete retried.error;
  writeFileSync(join(dir, 'cells', failed.id, 'result.json'), JSON.stringify(retried));
  await appendToIndex(dir, [retried]);
  const status = await sweepStatus(dir);
  t.like(
    status.cells.find((c) => c.id === failed.id),
    { state: 'done', final: 0.75 },
  );
  t.is((await readForAnalysis(dir)).cells.find((c) => c.id === failed.id)?.status, 'done');
  const csv = (await exportResults(dir, 'csv')).trim().split('\n');
  t.is(csv.filter((row) => row.startsWith(`${failed.id},`)).length, 1, 'exported once');
  t.true(csv.some((row) => row.startsWith(`${failed.id},done,`)));

  // A writer that died in the middle of a line.
  const count = indexLines(dir).length;
  appendFileSync(indexPath(dir), JSON.stringify(retried).slice(0, 80));
  let seen = 0;
  await forEachIndexLine(indexPath(dir), () => {
    seen++;
  });
  t.is(seen, count, 'the torn tail is not a line');
  await appendToIndex(dir, [retried]);
  const after = indexLines(dir);
  t.is(after.length, count + 1);
  for (const line of after) t.notThrows(() => JSON.parse(line));
});

test('appends from several processes at once: every line whole, none lost', async (t) => {
  const dir = tempDir();
  const results: CellResult[] = [];
  writeSyntheticFolder(dir, { ...DESIGN, unfinished: 0 });
  for (const line of indexLines(dir)) results.push(JSON.parse(line) as CellResult);
  rmSync(indexPath(dir));
  const writers = 4;
  const script = join(dir, 'append.mts');
  writeFileSync(
    script,
    `import { appendToIndex } from ${JSON.stringify(join(packageRoot, 'src', 'sweep', 'index-file.ts'))};
const [dir, from, step] = process.argv.slice(2);
const results = ${JSON.stringify(results)};
for (let i = Number(from); i < results.length; i += Number(step)) await appendToIndex(dir, [results[i]]);
`,
  );
  const exits = await Promise.all(
    Array.from(
      { length: writers },
      (_, w) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--import=tsx', script, dir, String(w), String(writers)], {
            stdio: 'inherit',
            cwd: packageRoot,
          });
          child.on('exit', resolve);
        }),
    ),
  );
  t.deepEqual(exits, [0, 0, 0, 0]);
  const ids = indexLines(dir).map((l) => (JSON.parse(l) as CellResult).id);
  t.is(ids.length, results.length);
  t.deepEqual([...ids].sort(), results.map((r) => r.id).sort());
});

test('export streams the index: JSONL is its latest lines, CSV one row per finished cell, to a file through the CLI', async (t) => {
  const dir = tempDir();
  const written = writeSyntheticFolder(dir, DESIGN);
  const jsonl = (await exportResults(dir, 'jsonl')).trim().split('\n');
  t.deepEqual(jsonl, indexLines(dir));
  // A result the index does not hold yet is exported too.
  const lines = indexLines(dir);
  writeFileSync(indexPath(dir), `${lines.slice(1).join('\n')}\n`);
  const out = join(dir, 'cells.csv');
  const cli = runCli(['export', dir, '--format', 'csv', '-o', out]);
  t.is(cli.status, 0, cli.stderr);
  const csv = readFileSync(out, 'utf8').trim().split('\n');
  t.is(csv.length, written.finished + 1);
  t.is(csv.at(-1)?.split(',')[0], lineId(lines[0] as string) as string, 'the cell missing from the index comes last');
  const ids = readdirSync(join(dir, 'cells'));
  const some = resultOf(dir, lineId(lines[1] as string) as string);
  t.true(ids.includes(some.id));
  t.true(csv.some((row) => row.startsWith(`${some.id},${some.status},`)));
});
