/**
 * Sweeps end to end on the CPU: a tiny BERT on real SST-2 rows. Resume, determinism, divergence, failures,
 * worker processes, and a SIGKILL in the middle of a cell.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import test from 'ava';
// The sweep API as a user imports it: from the package entry point.
import { type CellResult, exportResults, runSweep, type SweepEvent } from '../../src/index.js';
import { packageRoot } from '../../src/native/binding.js';
import { readSweep } from '../../src/sweep/store.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { demoGlue, makeTinyModel, tinySpec } from '../helpers/sweep.js';

const cliEntry = [process.execPath, '--import=tsx', join(packageRoot, 'test', 'helpers', 'cli-entry.ts')];
const model = makeTinyModel();

/** What decides a result: everything but timings, timestamps and the worker. */
function essence(r: CellResult) {
  const { timings: _t, startedAt: _s, finishedAt: _f, worker: _w, ...rest } = r;
  return { ...rest, scores: { ...rest.scores, epochs: rest.scores.epochs.map(({ seconds: _, ...e }) => e) } };
}

const results = async (dir: string) => (await readSweep(dir)).flatMap((c) => (c.result ? [c.result] : []));

test('a tiny sweep runs end to end, writes results and an index, and a rerun skips finished cells', async (t) => {
  const out = join(tempDir(), 'sweep');
  const events: SweepEvent[] = [];
  const summary = await runSweep(tinySpec(await model), { out, onEvent: (e) => events.push(e) });
  t.like(summary, { total: 8, done: 8, failed: 0, remaining: 0 });
  const all = await results(out);
  t.is(all.length, 8);
  for (const r of all) {
    t.is(r.primaryMetric, 'accuracy');
    t.is(r.scores.epochs.length, 2);
    t.true(typeof r.scores.probe?.accuracy === 'number');
    // The probe's fit is timed on its own, as a part of the probe phase.
    t.true((r.timings.probeFit as number) > 0 && (r.timings.probeFit as number) <= (r.timings.probe as number));
    t.true(typeof r.scores.final?.accuracy === 'number');
    if (r.config.corruption) {
      t.truthy(r.baselineId && all.find((b) => b.id === r.baselineId && b.config.corruption === null));
      t.true((r.corruption?.changed ?? 0) > 0);
    }
  }
  const index = readFileSync(join(out, 'index.jsonl'), 'utf8').trim().split('\n');
  t.is(index.length, 8);
  t.deepEqual(JSON.parse(readFileSync(join(out, 'spec.json'), 'utf8')).name, 'tiny');
  const csv = (await exportResults(out, 'csv')).trim().split('\n');
  t.is(csv.length, 9);
  t.regex(csv[0] as string, /^id,status,protocol,model,task,corruption,method,level,layers/);
  // Resume: nothing left to do.
  const again: SweepEvent[] = [];
  await runSweep(out, { out, onEvent: (e) => again.push(e) });
  t.is(again.filter((e) => e.type === 'cell-start').length, 0);
  t.like(
    again.find((e) => e.type === 'sweep-start'),
    { finished: 8, todo: 0 },
  );
});

test('two runs of the same spec and seeds give identical results', async (t) => {
  const [a, b] = [join(tempDir(), 'a'), join(tempDir(), 'b')];
  const spec = tinySpec(await model, {
    seeds: [3],
    corruptions: [{ method: 'gaussian', level: 0.3, relative: true, fraction: 0.5, targets: { layers: 'all' } }],
  });
  await runSweep(spec, { out: a });
  await runSweep(spec, { out: b });
  const [ra, rb] = [await results(a), await results(b)];
  t.is(ra.length, 2);
  t.deepEqual(ra.map(essence), rb.map(essence));
});

test('a diverging cell is recorded as diverged with its last metrics, and the sweep goes on', async (t) => {
  const out = join(tempDir(), 'div');
  const spec = tinySpec(await model, {
    seeds: [0],
    corruptions: [{ method: 'scale', level: 1e30, targets: { layers: 'all', kinds: 'weights' } }],
  });
  const summary = await runSweep(spec, { out });
  t.like(summary, { done: 1, diverged: 1 });
  const diverged = (await results(out)).find((r) => r.status === 'diverged');
  t.is(diverged?.error?.code, 'DIVERGED');
  t.true(typeof diverged?.scores.probe?.accuracy === 'number');
  t.is(diverged?.scores.final, undefined);
});

test('a cell that fails is recorded with its error, reported, and retried by the next run', async (t) => {
  const out = join(tempDir(), 'fail');
  // The data pass the checks before the first cell, then the training file goes away: the cell fails.
  const data = join(tempDir(), 'glue');
  cpSync(join(demoGlue, 'SST-2'), join(data, 'SST-2'), { recursive: true, filter: (f) => !f.includes('.healbert-cache') });
  const train = join(data, 'SST-2', 'train.tsv');
  const spec = tinySpec(await model, { seeds: [0], corruptions: [], tasks: [{ name: 'sst2', data, trainExamples: 64, evalExamples: 64 }] });
  const summary = await runSweep(spec, { out, onEvent: (e) => e.type === 'sweep-start' && renameSync(train, `${train}.away`) });
  t.like(summary, { failed: 1, done: 0 });
  const [failed] = await results(out);
  t.is(failed?.error?.code, 'ERR_IO');
  t.regex(failed?.error?.message ?? '', /SST-2\/train\.tsv/);
  const status = runCli(['status', out]);
  t.regex(status.stdout, /1 failed/);
  renameSync(`${train}.away`, train);
  const events: SweepEvent[] = [];
  await runSweep(out, { out, onEvent: (e) => events.push(e) });
  t.is(events.filter((e) => e.type === 'cell-start').length, 1, 'retried');
});

test('bad specs fail before any work starts, naming the field', async (t) => {
  const m = await model;
  const cases: [object, RegExp][] = [
    [
      tinySpec(m, { tasks: [{ name: 'sst2', data: '/nonexistent/glue' }] }),
      /spec\.tasks\[0\]\.data: folder \/nonexistent\/glue does not exist/,
    ],
    [
      tinySpec(m, { corruptions: [{ method: 'zero', targets: { layers: 5 } }] }),
      /spec\.corruptions\[0\]\.targets\.layers: layer 5 does not exist \(the model has layers 0-1\)/,
    ],
    [tinySpec(m, { models: ['/nonexistent/model'] }), /spec\.models\[0\]: \/nonexistent\/model has no config\.json/],
    [tinySpec(m, { recipe: { epochz: 1 } }), /spec\.recipe: unknown key "epochz"/],
  ];
  for (const [spec, message] of cases) {
    const out = join(tempDir(), 'bad');
    const error = await t.throwsAsync(runSweep(spec, { out }));
    t.is((error as { code?: string }).code, 'ERR_CONFIG');
    t.regex(error.message, message);
    t.false(existsSync(join(out, 'cells')), 'nothing was written');
  }
});

test('finetuned protocol: the clean cell saves its task model; corrupted cells start from it and heal', async (t) => {
  const out = join(tempDir(), 'ft');
  const spec = tinySpec(await model, {
    protocol: 'finetuned',
    seeds: [0],
    corruptions: [{ method: 'zero', targets: { layers: 'bottom:1', components: ['attention'] } }],
    recovery: { healEpochs: 1 },
  });
  const summary = await runSweep(spec, { out });
  t.like(summary, { done: 3 });
  const all = await results(out);
  const clean = all.find((r) => !r.config.corruption && !r.config.control) as CellResult;
  const corrupted = all.find((r) => r.config.corruption) as CellResult;
  const control = all.find((r) => r.config.control) as CellResult;
  t.true(existsSync(join(out, 'cells', clean.id, 'model', 'model.safetensors')));
  t.deepEqual(corrupted.scores.beforeCorruption, clean.scores.final, 'the corrupted cell starts from the baseline model');
  t.truthy(corrupted.scores.afterCorruption);
  t.is(corrupted.scores.epochs.length, 1);
  t.is(control.baselineId, clean.id);
  t.deepEqual(control.scores.beforeCorruption, clean.scores.final, 'so does its control');
  t.is(control.scores.epochs.length, 1);
  t.false(existsSync(join(out, 'cells', control.id, 'model')), 'only the baseline saves a task model');
});

test('finetuned protocol in shards: a shard runs a baseline of another shard, then its own cells too', async (t) => {
  const out = join(tempDir(), 'ft-shards');
  const spec = tinySpec(await model, {
    protocol: 'finetuned',
    seeds: [0, 1, 2],
    corruptions: [{ method: 'zero', targets: { layers: 'bottom:1', components: ['attention'] } }],
    recovery: { healEpochs: 1 },
    recipe: { epochs: 1, batchSize: 16, maxLength: 48, lr: 1e-3, evalBatchSize: 64 },
  });
  // Shards run one after another, each alone: whichever needs a baseline from a later shard runs it.
  for (let index = 0; index < 3; index++) {
    const summary = await runSweep(spec, { out, shard: { index, count: 3 } });
    t.is(summary.remaining, 0, `shard ${index}/3 left cells unrun`);
    t.is(summary.failed, 0);
  }
  const all = await results(out);
  t.is(all.length, 9, 'a clean baseline, its control and a corrupted cell per seed');
  t.true(all.every((r) => r.status === 'done'));
});

test('several CPU worker processes share the cells; each runs exactly once', async (t) => {
  const out = join(tempDir(), 'workers');
  const events: SweepEvent[] = [];
  const summary = await runSweep(tinySpec(await model), { out, workers: 2, workerCommand: cliEntry, onEvent: (e) => events.push(e) });
  t.like(summary, { done: 8, failed: 0 });
  const ends = events.filter((e) => e.type === 'cell-end').map((e) => (e as { id: string }).id);
  t.is(ends.length, 8);
  t.is(new Set(ends).size, 8);
});

test('SIGKILL in the middle of a cell loses only that cell; resuming finishes every cell exactly once', async (t) => {
  const dir = tempDir();
  const out = join(dir, 'killed');
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(tinySpec(await model)));
  // The child freezes right after printing the third cell's first step (see cli-entry.ts), so the kill
  // lands in the middle of that cell however fast the cell is.
  const child = spawn(cliEntry[0] as string, [...cliEntry.slice(1), 'sweep', specPath, '--out', out, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HEALBERT_TEST_FREEZE_AFTER_CELLS: '2' },
  });
  const firstEnds: string[] = [];
  let killedDuring: string | undefined;
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as SweepEvent;
      if (e.type === 'cell-end') firstEnds.push(e.id);
      // Kill in the middle of the third cell's fine-tuning.
      if (e.type === 'cell-step' && firstEnds.length >= 2 && !killedDuring) {
        killedDuring = e.id;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', () => resolve());
  });
  t.truthy(killedDuring);
  t.false(existsSync(join(out, 'cells', killedDuring as string, 'result.json')), 'no result for the killed cell');
  t.true(existsSync(join(out, 'cells', killedDuring as string, 'lock')), 'its lock is left behind');
  for (const id of firstEnds) t.true(existsSync(join(out, 'cells', id, 'result.json')));
  const resumed: SweepEvent[] = [];
  const summary = await runSweep(out, { out, onEvent: (e) => resumed.push(e) });
  t.like(summary, { done: 8, failed: 0, remaining: 0 });
  const secondEnds = resumed.filter((e) => e.type === 'cell-end').map((e) => (e as { id: string }).id);
  t.deepEqual(
    [...firstEnds, ...secondEnds].sort(),
    readdirSync(join(out, 'cells')).sort(),
    'every cell finished exactly once over both runs',
  );
  t.true(secondEnds.includes(killedDuring as string));
  const index = readFileSync(join(out, 'index.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).id);
  t.is(new Set(index).size, 8);
  t.is(index.length, 8);
});
