/**
 * Input fingerprints: a rerun after the weights, a tokenizer file or a data file changed in place is
 * refused (naming the file, its old and new fingerprint, and the ways forward); --recompute-changed reruns
 * exactly the affected cells and keeps the old results beside the new ones.
 */
import { cpSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { analyze } from '../../src/analysis/analyze.js';
import { type CellResult, exportResults, runSweep, type SweepEvent } from '../../src/index.js';
import { exportWarnings, sweepStatus } from '../../src/sweep/export.js';
import { Fingerprinter, shortFingerprint } from '../../src/sweep/fingerprint.js';
import { planSweep } from '../../src/sweep/plan.js';
import { findChangedCells, fingerprintCells, setAsideStale } from '../../src/sweep/resume.js';
import { readSweep, rebuildIndex } from '../../src/sweep/store.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { demoGlue, makeTinyModel, tinySpec } from '../helpers/sweep.js';

const model = makeTinyModel();

/** A private copy of the tiny model and the SST-2 slice, so a test may change them in place. */
async function inputs() {
  const dir = tempDir();
  const paths = { model: join(dir, 'model'), data: join(dir, 'glue'), out: join(dir, 'out') };
  cpSync(await model, paths.model, { recursive: true });
  cpSync(join(demoGlue, 'SST-2'), join(paths.data, 'SST-2'), { recursive: true, filter: (f) => !f.includes('.healbert-cache') });
  return paths;
}

/** One clean cell per seed, cheap. */
const smallSpec = (p: { model: string; data: string }, seeds = [0]) =>
  tinySpec(p.model, {
    tasks: [{ name: 'sst2', data: p.data, trainExamples: 32, evalExamples: 32 }],
    corruptions: [],
    seeds,
    recipe: { epochs: 1, batchSize: 16, maxLength: 32, lr: 1e-3, evalBatchSize: 32 },
    probe: { epochs: 2 },
  });

/** Rewrites a file in place (same inode) with `edit` applied; returns the original bytes. */
function editInPlace(path: string, edit: (b: Buffer) => Buffer): Buffer {
  const original = readFileSync(path);
  writeFileSync(path, edit(Buffer.from(original)));
  return original;
}
const flipLastByte = (b: Buffer) => {
  b[b.length - 1] = (b[b.length - 1] as number) ^ 0x5a;
  return b;
};

test('changed weights, tokenizer and data files are each detected on resume, naming the file and both fingerprints', async (t) => {
  const p = await inputs();
  const spec = smallSpec(p);
  t.like(await runSweep(spec, { out: p.out }), { done: 1 });
  const [first] = (await readSweep(p.out)).map((c) => c.result as CellResult);
  const recorded = first?.inputs ?? {};
  t.truthy(recorded[join(p.model, 'model.safetensors')], 'the result records the weights fingerprint');
  t.truthy(JSON.parse(readFileSync(join(p.out, 'inputs.json'), 'utf8')).files[join(p.model, 'vocab.txt')]);
  const cases: [string, (b: Buffer) => Buffer][] = [
    [join(p.model, 'model.safetensors'), flipLastByte],
    [join(p.model, 'vocab.txt'), (b) => Buffer.from(b.toString('utf8').replace('[unused0]', '[unused00]'))],
    [join(p.data, 'SST-2', 'dev.tsv'), (b) => Buffer.from(b.toString('utf8').replace(/\t1\n/, '\t0\n'))],
  ];
  for (const [file, edit] of cases) {
    const original = editInPlace(file, edit);
    const now = new Fingerprinter().file(file);
    const events: SweepEvent[] = [];
    const error = await t.throwsAsync(runSweep(p.out, { out: p.out, onEvent: (e) => events.push(e) }));
    t.is((error as { code?: string }).code, 'ERR_CONFIG', file);
    t.true(
      error.message.includes(`${file}: ${shortFingerprint(recorded[file])} -> ${shortFingerprint((await now).sha256)}`),
      error.message,
    );
    t.regex(error.message, /--out/);
    t.regex(error.message, /--recompute-changed/);
    t.is(events.length, 0, 'refused before any cell');
    // The same bytes back (a new mtime): accepted, nothing to rerun.
    writeFileSync(file, original);
    const again: SweepEvent[] = [];
    await runSweep(p.out, { out: p.out, onEvent: (e) => again.push(e) });
    t.like(
      again.find((e) => e.type === 'sweep-start'),
      { finished: 1, todo: 0 },
    );
  }
});

test('--recompute-changed reruns exactly the changed cells and keeps the old result beside the new one', async (t) => {
  const p = await inputs();
  // Two models: the first one's weights change, so its cell reruns and the second one's does not.
  const second = join(tempDir(), 'model-b');
  cpSync(p.model, second, { recursive: true });
  const spec = {
    ...smallSpec(p),
    models: [
      { name: 'a', path: p.model },
      { name: 'b', path: second },
    ],
  };
  t.like(await runSweep(spec, { out: p.out }), { done: 2 });
  const before = new Map((await readSweep(p.out)).map((c) => [c.id, c.result as CellResult]));
  const weights = join(p.model, 'model.safetensors');
  editInPlace(weights, flipLastByte);
  const events: SweepEvent[] = [];
  const summary = await runSweep(p.out, { out: p.out, recomputeChanged: true, onEvent: (e) => events.push(e) });
  t.like(summary, { done: 2, failed: 0 });
  t.like(
    events.find((e) => e.type === 'sweep-start'),
    { recomputed: 1, todo: 1 },
  );
  for (const [id, old] of before) {
    const files = readdirSync(join(p.out, 'cells', id));
    if (old.config.model.name === 'b') {
      t.false(
        files.some((f) => f.includes('stale')),
        'an unchanged cell is not recomputed',
      );
      t.deepEqual(JSON.parse(readFileSync(join(p.out, 'cells', id, 'result.json'), 'utf8')), old);
      continue;
    }
    const stale = files.filter((f) => /^result\.stale-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/.test(f));
    t.is(stale.length, 1, `${id}: ${files.join(', ')}`);
    const kept = JSON.parse(readFileSync(join(p.out, 'cells', id, stale[0] as string), 'utf8')) as CellResult;
    t.deepEqual(kept, old, 'the old result is kept whole');
    const fresh = JSON.parse(readFileSync(join(p.out, 'cells', id, 'result.json'), 'utf8')) as CellResult;
    t.not(fresh.inputs?.[weights], old.inputs?.[weights]);
    t.is(fresh.inputs?.[weights], (await new Fingerprinter().file(weights)).sha256);
  }
  // Nothing changed since: a plain rerun is accepted and runs nothing.
  const again: SweepEvent[] = [];
  await runSweep(p.out, { out: p.out, onEvent: (e) => again.push(e) });
  t.is(again.filter((e) => e.type === 'cell-start').length, 0);
});

test('results without fingerprints (an older healbert, e.g. an earlier demo) count as changed', async (t) => {
  const p = await inputs();
  await runSweep(smallSpec(p), { out: p.out });
  const [cell] = await readSweep(p.out);
  const path = join(p.out, 'cells', cell?.id as string, 'result.json');
  const { inputs: _, ...old } = JSON.parse(readFileSync(path, 'utf8')) as CellResult;
  writeFileSync(path, JSON.stringify(old));
  const error = await t.throwsAsync(runSweep(p.out, { out: p.out }));
  t.is((error as { code?: string }).code, 'ERR_CONFIG');
  t.regex(error.message, /no input fingerprints recorded/);
  t.like(await runSweep(p.out, { out: p.out, recomputeChanged: true }), { done: 1 });
});

test('a file is re-read only when its size, mtime or inode changed', async (t) => {
  const file = join(tempDir(), 'weights.bin');
  writeFileSync(file, Buffer.alloc(1 << 16, 1));
  const first = new Fingerprinter();
  const a = await first.file(file);
  const second = new Fingerprinter(Object.fromEntries(first.records));
  t.deepEqual(await second.file(file), a);
  t.is(second.hashed, 0, 'unchanged: taken from the record');
  const later = new Date(Date.now() + 5000);
  utimesSync(file, later, later);
  t.is((await second.file(file)).sha256, a.sha256, 'touched: re-read, same content');
  t.is(second.hashed, 1);
  writeFileSync(file, Buffer.alloc(1 << 16, 2));
  t.not((await second.file(file)).sha256, a.sha256);
});

test('status, export and the report show each cell fingerprint and warn when one model and task mix inputs', async (t) => {
  const p = await inputs();
  await runSweep(smallSpec(p, [0, 1]), { out: p.out });
  const status = await sweepStatus(p.out);
  t.deepEqual(status.warnings, []);
  const digests = status.cells.map((c) => c.inputs);
  t.true(digests.every((d) => typeof d === 'string' && d.length === 12));
  t.is(new Set(digests).size, 1, 'both cells read the same bytes');
  const csv = (await exportResults(p.out, 'csv')).trim().split('\n');
  t.true((csv[0] as string).endsWith(',inputs'));
  t.true((csv[1] as string).endsWith(`,${digests[0]}`));
  // One cell as if computed while the weights were another file (two shards on either side of a change).
  const [cell] = await readSweep(p.out);
  const path = join(p.out, 'cells', cell?.id as string, 'result.json');
  const result = JSON.parse(readFileSync(path, 'utf8')) as CellResult;
  const weights = join(p.model, 'model.safetensors');
  writeFileSync(path, JSON.stringify({ ...result, inputs: { ...result.inputs, [weights]: 'f'.repeat(64) } }));
  await rebuildIndex(p.out); // as the sweep that wrote it would have
  const warning = new RegExp(`tiny/sst2: cells were computed from different versions of ${weights}: .*ffffffffffff \\(1 cells\\)`);
  t.regex((await sweepStatus(p.out)).warnings.join('\n'), warning);
  t.regex((await exportWarnings(p.out)).join('\n'), warning);
  const analysis = await analyze(p.out);
  t.regex(analysis.warnings.join('\n'), warning);
  t.is(new Set(analysis.cells.map((c) => c.inputs)).size, 2);
});

test('--plan shows which finished cells would be recomputed because their inputs changed', async (t) => {
  const p = await inputs();
  await runSweep(smallSpec(p, [0, 1]), { out: p.out });
  t.like((await planSweep(p.out, { out: p.out })).counts, { finished: 2, recompute: 0, run: 0 });
  editInPlace(join(p.data, 'SST-2', 'train.tsv'), (b) => Buffer.from(b.toString('utf8').replace(/\t0\n/, '\t1\n')));
  const plan = await planSweep(p.out, { out: p.out });
  t.like(plan.counts, { finished: 0, recompute: 2, run: 0 });
  t.deepEqual(
    plan.groups.flatMap((g) => g.cells.map((c) => c.state)),
    ['recompute', 'recompute'],
  );
  t.is(plan.fleets.length, 2);
});

test('--emit refuses a results folder whose inputs changed, and passes --recompute-changed on to every task', async (t) => {
  const p = await inputs();
  const specPath = join(tempDir(), 'spec.json');
  writeFileSync(specPath, JSON.stringify(smallSpec(p)));
  await runSweep(specPath, { out: p.out });
  editInPlace(join(p.model, 'model.safetensors'), flipLastByte);
  const emit = ['sweep', specPath, '--out', p.out, '--emit', 'slurm', '--shards', '2'];
  const refused = runCli(emit);
  t.not(refused.status, 0);
  t.is(refused.stdout, '', 'no manifest');
  t.regex(refused.stderr, /ERR_CONFIG.*1 finished cell was computed from inputs that have changed/);
  const ok = runCli([...emit, '--recompute-changed']);
  t.is(ok.status, 0, ok.stderr);
  t.regex(ok.stdout, /--shard "\$\{SLURM_ARRAY_TASK_ID\}\/2" .*--recompute-changed$/m);
});

test('two workers setting the same changed results aside at once: each is kept once, neither fails', async (t) => {
  const p = await inputs();
  await runSweep(smallSpec(p, [0, 1]), { out: p.out });
  editInPlace(join(p.model, 'model.safetensors'), flipLastByte);
  const cells = (await readSweep(p.out)).map((c) => ({ id: c.id, config: c.config }));
  const { inputs: now } = await fingerprintCells(p.out, cells);
  const changed = await findChangedCells(p.out, cells, now);
  t.is(changed.length, 2);
  const moved = await Promise.all([setAsideStale(p.out, changed, now), setAsideStale(p.out, changed, now)]);
  t.is(moved.flat().length, 2);
  for (const { id } of cells) t.is(readdirSync(join(p.out, 'cells', id)).filter((f) => f.startsWith('result.')).length, 1);
});
