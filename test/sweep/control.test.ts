/**
 * The finetuned protocol's control, end to end on the CPU: a task model that is not converged gains from
 * the healing epoch whether corrupted or not. The gap to the task model before healing then says "better
 * than clean"; the residual gap against the control does not. And a folder written before controls:
 * analysis says so, and resuming runs only the missing controls.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { analyze } from '../../src/analysis/analyze.js';
import { seededRandom } from '../../src/data/random.js';
import { exportResults, sweepStatus } from '../../src/sweep/export.js';
import { planSweep } from '../../src/sweep/plan.js';
import { runSweep, type SweepEvent } from '../../src/sweep/run.js';
import { readResult, readSweep, rebuildIndex } from '../../src/sweep/store.js';
import type { CellResult } from '../../src/sweep/types.js';
import { tempDir } from '../helpers/checkpoints.js';
import { modelFixture } from '../helpers/fixtures.js';

/**
 * SST-2-shaped rows whose label says whether "film" occurs among 8 common words: tiny-bert-sst2's features
 * do not answer it, so one epoch at this learning rate leaves the task model far from converged.
 */
function keywordTask(): string {
  const dir = tempDir('healbert-keyword-');
  const random = seededRandom(12345);
  const words = 'the a and of to is in that it as with for an its this you by on at from one or into out up who what if story time'.split(
    ' ',
  );
  const row = () => {
    const label = random() < 0.5 ? 1 : 0;
    const sentence = Array.from({ length: 8 }, () => words[Math.floor(random() * words.length)] as string);
    if (label) sentence[Math.floor(random() * 8)] = 'film';
    return `${sentence.join(' ')}\t${label}`;
  };
  mkdirSync(join(dir, 'SST-2'));
  for (const [split, n] of [
    ['train', 128],
    ['dev', 200],
  ] as const)
    writeFileSync(join(dir, 'SST-2', `${split}.tsv`), `sentence\tlabel\n${Array.from({ length: n }, row).join('\n')}\n`);
  return dir;
}

const spec = (data: string) => ({
  name: 'control',
  protocol: 'finetuned',
  models: [{ name: 'tiny', path: modelFixture('tiny-bert-sst2') }],
  tasks: [{ name: 'sst2', data }],
  corruptions: [{ method: 'reinit', targets: { layers: 'bottom:1' } }],
  seeds: [0, 1],
  recipe: { epochs: 1, batchSize: 16, maxLength: 32, lr: 1e-3, evalBatchSize: 100, warmupRatio: 0 },
  recovery: { healEpochs: 1 },
});

const results = async (dir: string) => (await readSweep(dir)).flatMap((c) => (c.result ? [c.result] : []));

test('a task model that is not converged: the old gap says "better than clean", the gap against the control does not', async (t) => {
  const out = join(tempDir(), 'sweep');
  const summary = await runSweep(spec(keywordTask()), { out });
  t.like(summary, { total: 6, done: 6, failed: 0 });
  const all = await results(out);
  const controls = all.filter((r) => r.config.control);
  t.is(controls.length, 2);
  for (const control of controls) {
    const baseline = all.find((r) => r.id === control.baselineId) as CellResult;
    t.deepEqual(control.scores.beforeCorruption, baseline.scores.final, 'the control starts from the task model');
    t.is(control.scores.afterCorruption, undefined);
    t.is(control.scores.epochs.length, 1);
    t.truthy(control.inputs, 'fingerprinted like any cell');
    // The premise: one more epoch raises the score of the uncorrupted task model.
    t.true((control.scores.final?.accuracy as number) - (baseline.scores.final?.accuracy as number) > 0.05);
  }

  const a = await analyze(out, { resamples: 200 });
  const corrupted = a.groups.find((g) => g.label === 'reinit bottom:1');
  const old = corrupted?.gapToTaskModelBeforeHealing.mean as number;
  const gap = corrupted?.residualGap.mean as number;
  t.log(`task model ${corrupted?.cleanScore.mean}, control ${corrupted?.controlScore.mean}, healed ${corrupted?.recovered.mean}`);
  t.log(`gap to the task model before healing ${old}, residual gap against the control ${gap}`);
  t.true(old < -0.05, `gap to the task model before healing ${old}: "better than clean"`);
  // Against the control, healed alike, the corrupted model is not better (within a few of 200 examples).
  t.true(gap > -0.025, `residual gap ${gap}`);
  t.true(gap - old > 0.05, 'the control takes out what healing gains on its own');
  t.is(a.groups.find((g) => g.label === 'control')?.residualGap.mean, 0);
  t.deepEqual(
    a.warnings.filter((w) => /control/.test(w)),
    [],
  );
});

test('a finetuned folder from before controls: analysis says so; resuming runs only the controls, as a fresh run does', async (t) => {
  const out = join(tempDir(), 'old');
  await runSweep(spec(keywordTask()), { out });
  const fresh = await results(out);
  const controls = fresh.filter((r) => r.config.control);
  // What a folder written before controls holds: no control cells, an index without them.
  for (const c of controls) rmSync(join(out, 'cells', c.id), { recursive: true });
  rmSync(join(out, 'index.jsonl'));
  await rebuildIndex(out);

  const before = await analyze(out, { resamples: 200 });
  const corrupted = before.cells.filter((c) => c.config.corruption);
  t.is(corrupted.length, 2);
  for (const c of corrupted) {
    t.is(c.residualGap, null, 'no fallback to the uncontrolled gap');
    t.is(c.recoveryRatio, null);
    t.not(c.gapToTaskModelBeforeHealing, null);
    t.regex(c.note ?? '', /no control cell/);
  }
  t.true(before.warnings.some((w) => /2 finetuned corrupted cells have no done control .*run the sweep again/.test(w)));

  // --plan and status show the missing controls as the cells to run; export names them once they ran.
  const plan = await planSweep(out, { out });
  t.like(plan.counts, { total: 6, finished: 4, run: 2 });
  t.deepEqual(
    plan.groups.find((g) => g.corruption === 'control')?.cells.map((c) => c.state),
    ['run', 'run'],
  );

  const pending = await sweepStatus(out);
  t.like(pending.counts, { done: 4, pending: 2 });
  t.deepEqual(
    pending.cells.filter((c) => c.state === 'pending').map((c) => c.id),
    controls.map((c) => c.id).sort(),
  );
  t.true(pending.cells.filter((c) => c.state === 'pending').every((c) => / control seed /.test(c.label)));

  const events: SweepEvent[] = [];
  const summary = await runSweep(out, { out, onEvent: (e) => events.push(e) });
  t.like(summary, { total: 6, done: 6, failed: 0 });
  const started = events.flatMap((e) => (e.type === 'cell-start' ? [e.id] : []));
  t.deepEqual(started.sort(), controls.map((c) => c.id).sort(), 'only the missing controls run');
  t.true(events.every((e) => e.type !== 'cell-start' || / control seed /.test(e.label)));
  for (const c of controls) {
    const again = (await readResult(out, c.id)) as CellResult;
    t.deepEqual(again.scores.final, c.scores.final, 'the same control as a fresh run');
  }
  t.is((await exportResults(out, 'csv')).split('\n').filter((line) => line.includes(',control,')).length, 2);
  const status = await sweepStatus(out);
  t.deepEqual(
    status.cells.filter((c) => / control seed /.test(c.label)).map((c) => c.state),
    ['done', 'done'],
  );
  const after = await analyze(out, { resamples: 200 });
  t.true(after.cells.filter((c) => c.config.corruption).every((c) => c.residualGap !== null));
});
