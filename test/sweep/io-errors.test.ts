/**
 * File-system failures during a sweep, injected at the atomic writer (tests run as root, so permissions
 * cannot be taken away for real): the error names the file, says finished cells are kept and how to
 * resume; nothing is half-written, and the resume completes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { writeFaults } from '../../src/atomic.js';
import { runSweep, type SweepEvent } from '../../src/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { makeTinyModel, tinySpec } from '../helpers/sweep.js';

const model = makeTinyModel();

/** An errno error as a write through a file handle raises it: no path. */
const errno = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}, write`), { code, syscall: 'write' });

const allFiles = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f));

// The seam is process-wide: these tests run one after another.
test.serial.afterEach.always(() => {
  writeFaults.inject = undefined;
});

test.serial('a full disk while writing a result: the error names the file, finished cells are kept, and a resume completes', async (t) => {
  const out = join(tempDir(), 'full');
  const spec = tinySpec(await model, { seeds: [0, 1], corruptions: [], recipe: { epochs: 1, batchSize: 16, maxLength: 32, lr: 1e-3 } });
  let results = 0;
  let failedPath = '';
  writeFaults.inject = (path) => {
    if (!path.endsWith('result.json') || ++results < 2) return undefined;
    failedPath = path;
    return errno('ENOSPC', 'no space left on device');
  };
  const ended: string[] = [];
  const error = await t.throwsAsync(runSweep(spec, { out, onEvent: (e) => e.type === 'cell-end' && ended.push(e.id) }));
  t.is((error as { code?: string }).code, 'ERR_IO');
  t.true(error.message.startsWith(`cannot write ${failedPath}: the disk is full (ENOSPC).`), error.message);
  t.regex(error.message, /cells already finished are kept/);
  t.true(error.message.includes(`resume with \`healbert sweep ${out}\``), error.message);
  t.false(
    allFiles(out).some((f) => f.includes('.tmp-')),
    'no temporary file is left',
  );
  const finished = allFiles(out).filter((f) => f.endsWith('result.json'));
  t.is(finished.length, 1, 'the first cell is kept');
  t.notThrows(() => JSON.parse(readFileSync(finished[0] as string, 'utf8')), 'whole');

  writeFaults.inject = undefined; // space freed
  const events: SweepEvent[] = [];
  const summary = await runSweep(out, { out, onEvent: (e) => events.push(e) });
  t.like(summary, { done: 2, failed: 0, remaining: 0 });
  t.is(events.filter((e) => e.type === 'cell-start').length, 1, 'only the cell without a result runs again');
});

test.serial('permission denied and a read-only results folder are explained the same way', async (t) => {
  const spec = tinySpec(await model, { seeds: [0], corruptions: [] });
  for (const [code, what] of [
    ['EACCES', 'permission denied'],
    ['EPERM', 'operation not permitted'],
    ['EROFS', 'the file system is read-only'],
  ] as const) {
    const out = join(tempDir(), code);
    writeFaults.inject = (path) => (path.endsWith('spec.json') ? errno(code, what) : undefined);
    const error = await t.throwsAsync(runSweep(spec, { out }));
    t.is((error as { code?: string }).code, 'ERR_IO');
    t.true(error.message.startsWith(`cannot write ${join(out, 'spec.json')}: ${what} (${code}).`), error.message);
    t.regex(error.message, /healbert sweep/);
  }
});
