import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type Analysis, analyze } from '../../src/analysis/analyze.js';
import { TRUTH, writeSyntheticSweep } from './helpers/synthetic-sweep.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-analysis-'));
  dirs.push(dir);
  return dir;
};
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let shared: Promise<{ dir: string; analysis: Analysis }> | undefined;
/** One synthetic sweep (index.jsonl holding the first 40 results, the rest as result.json) shared by the tests. */
function sweep() {
  shared ??= (async () => {
    const dir = tempDir();
    writeSyntheticSweep(dir, { index: 40 });
    return { dir, analysis: await analyze(dir, { resamples: 500 }) };
  })();
  return shared;
}

const group = (a: Analysis, label: string) => {
  const g = a.groups.find((x) => x.label === label);
  if (!g) throw new Error(`no group ${label}: ${a.groups.map((x) => x.label).join(', ')}`);
  return g;
};

test('every cell is accounted for; unfinished, diverged and failed cells are counted and never averaged in', async (t) => {
  const { analysis: a } = await sweep();
  t.deepEqual(a.counts, { done: 96, diverged: 1, failed: 1, running: 1, pending: 1 });
  t.is(a.cells.length, 100);
  const diverged = group(a, 'gaussian 1 all');
  t.is(diverged.counts.diverged, 1);
  t.is(diverged.damage.n, 4, 'the diverged seed is not averaged in');
  t.false(diverged.complete);
  t.deepEqual(diverged.seeds, [1, 2, 3, 4]);
  t.is(group(a, 'gaussian 0.3 all').counts.running, 1);
  t.is(group(a, 'reinit layers 0,2').counts.pending, 1);
  t.is(group(a, 'reinit top:1').counts.failed, 1);
  t.true(group(a, 'reinit all').complete);
  const cell = a.cells.find((c) => c.status === 'diverged');
  t.is(cell?.damage, null);
  t.regex(cell?.note ?? '', /diverged at step 12: ERR_DIVERGED/);
  t.true(a.warnings.some((w) => /not finished: 1 cells in flight and 1 not started/.test(w)));
  t.true(a.warnings.some((w) => /1 diverged and 1 failed/.test(w)));
  // The heatmap row of gaussian 1 on all layers says what it left out.
  const row = a.layerDose.find((r) => r.context === 'gaussian relative' && r.dose === 1 && r.layers === '0-2');
  t.is(row?.counts.diverged, 1);
  t.is(row?.residualGap.n, 4);
});

test('per-cell and per-group quantities follow their definitions', async (t) => {
  const { analysis: a } = await sweep();
  const clean = group(a, 'clean');
  t.is(clean.damage.mean, 0);
  t.is(clean.recoveryRatio.value, null, 'no damage, no ratio');
  const all = group(a, 'reinit all');
  // damage(all) = 0.2 + 0.12 + 0.05 + 0.04 = 0.41; gap = 0.3 * damage; ratio = 0.7, up to the noise
  t.true(Math.abs((all.damage.mean as number) - 0.41) < 0.01, `damage ${all.damage.mean}`);
  t.true(Math.abs((all.residualGap.mean as number) - 0.123) < 0.01, `gap ${all.residualGap.mean}`);
  t.true(Math.abs((all.recoveryRatio.value as number) - 0.7) < 0.03, `ratio ${all.recoveryRatio.value}`);
  t.truthy(all.damage.ci && all.damage.ci.low < (all.damage.mean as number) && (all.damage.mean as number) < all.damage.ci.high);
  t.is(all.curve.length, 3);
  for (const c of a.cells.filter((x) => x.status === 'done' && x.damage !== null)) {
    t.is(c.damage, (c.cleanBefore as number) - (c.corruptedBefore as number));
    t.is(c.residualGap, (c.cleanScore as number) - (c.recovered as number));
  }
  // "bottom:2" and "0-1" are one experiment: one slot in the layer table, and the same numbers.
  t.true(Math.abs((group(a, 'reinit bottom:2').damage.mean as number) - (group(a, 'reinit layers 0-1').damage.mean as number)) < 1e-12);
  t.is(a.layerDose.filter((r) => r.context === 'reinit' && r.layers === '0,1').length, 1);
});

test('exact Shapley values and interactions recover the game behind the synthetic sweep', async (t) => {
  const { analysis: a } = await sweep();
  const damage = a.shapley.find((s) => s.context === 'reinit' && s.quantity === 'damage');
  t.is(damage?.estimator, 'exact');
  // Seed 4 misses top:1 (failed) and seed 5 misses layers 0,2 (pending): both are left out, and said so.
  t.deepEqual(damage?.seeds, [1, 2, 3]);
  t.deepEqual(damage?.incompleteSeeds, [4, 5]);
  // phi_i = w_i, plus half of the 0-1 interaction gamma to layers 0 and 1.
  const [w0, w1, w2] = TRUTH.w as [number, number, number];
  const expected = [w0 + TRUTH.gamma / 2, w1 + TRUTH.gamma / 2, w2];
  for (const v of damage?.values ?? [])
    t.true(Math.abs((v.value.mean as number) - (expected[v.layer] as number)) < 0.02, `layer ${v.layer}: ${v.value.mean}`);
  const sum = (damage?.values ?? []).reduce((s, v) => s + (v.value.mean as number), 0);
  t.true(Math.abs(sum - (damage?.total as number)) < 1e-12, 'efficiency');
  const pair = a.interactions.find((r) => r.context === 'reinit' && r.quantity === 'damage' && r.kind === 'pair' && r.i === 0 && r.j === 1);
  t.true(Math.abs((pair?.value.mean as number) - TRUTH.gamma) < 0.02, `pair interaction ${pair?.value.mean}`);
  const index = a.interactions.find(
    (r) => r.context === 'reinit' && r.quantity === 'damage' && r.kind === 'shapley-index' && r.i === 0 && r.j === 1,
  );
  t.true(Math.abs((index?.value.mean as number) - TRUTH.gamma) < 0.02);
  // Gaussian contexts have no subset design: no Shapley row claims anything about them.
  t.false(a.shapley.some((s) => s.context === 'gaussian relative'));
});

test('bottom-k hurts more than top-k, paired by seed, with effect sizes and honest warnings', async (t) => {
  const { analysis: a } = await sweep();
  const k1 = a.bottomTop.find((r) => r.context === 'reinit' && r.k === 1 && r.quantity === 'damage');
  t.truthy(k1);
  t.is(k1?.difference.n, 4, 'seed 4 has no top:1 (failed)');
  t.deepEqual(k1?.unpairedSeeds, [4]);
  t.true((k1?.difference.meanDifference as number) > 0.1);
  t.true((k1?.difference.pT as number) < 0.001);
  t.true((k1?.difference.effectSize as number) > 3);
  t.true(k1?.difference.warnings.some((w) => /4 seeds: the exact sign-flip test cannot go below p = 0.13/.test(w)));
  const k2 = a.bottomTop.find((r) => r.context === 'reinit' && r.k === 2 && r.quantity === 'residualGap');
  t.true((k2?.difference.meanDifference as number) > 0);
  // Single-layer gaussian at equal level: paired at each level.
  t.true(a.bottomTop.some((r) => r.context === 'gaussian relative' && r.dose === 1 && r.k === 1));
  const trend = a.trends.find((r) => r.context === 'reinit' && r.x.startsWith('layer index') && r.y === 'damage');
  t.true((trend?.spearman.r as number) < -0.8, 'deeper single layers do less damage');
});

test('dose-response: the fitted curves find the half-loss levels of the synthetic curves', async (t) => {
  const { analysis: a } = await sweep();
  const before = a.doseResponse.find((s) => s.context === 'gaussian relative' && s.layers === '0-2' && s.stage === 'before fine-tuning');
  const after = a.doseResponse.find((s) => s.context === 'gaussian relative' && s.layers === '0-2' && s.stage === 'after fine-tuning');
  t.true(before?.logScale);
  t.true(Math.abs(Math.log((before?.fit?.halfDose as number) / TRUTH.before.mid)) < 0.15, `before: ${before?.fit?.halfDose}`);
  t.true(Math.abs(Math.log((after?.fit?.halfDose as number) / TRUTH.after.mid)) < 0.3, `after: ${after?.fit?.halfDose}`);
  t.true(Math.abs((before?.fit?.bottom as number) - TRUTH.before.floor) < 0.03);
  t.is(before?.points.length, 5);
  t.is(before?.points.find((p) => p.dose === 1)?.counts.diverged, 1);
  const single = a.doseResponse.find((s) => s.layers === '0' && s.stage === 'before fine-tuning');
  t.is(single?.fit, null);
  t.regex(single?.fitNote ?? '', /fewer than three doses/);
  t.false(
    a.doseResponse.some((s) => s.context === 'reinit'),
    'reinit has a single dose',
  );
});

test('deterministic given the seed; another seed moves only the intervals', async (t) => {
  const dir = tempDir();
  writeSyntheticSweep(dir, { clean: true, noise: 0.01 });
  const [a, b, c] = await Promise.all([
    analyze(dir, { resamples: 200, seed: 5 }),
    analyze(dir, { resamples: 200, seed: 5 }),
    analyze(dir, { resamples: 200, seed: 6 }),
  ]);
  t.deepEqual(a, b);
  t.deepEqual(
    a.groups.map((g) => g.damage.mean),
    c.groups.map((g) => g.damage.mean),
  );
  t.notDeepEqual(
    a.groups.map((g) => g.damage.ci),
    c.groups.map((g) => g.damage.ci),
  );
  t.deepEqual(a.counts, { done: 100, diverged: 0, failed: 0, running: 0, pending: 0 });
  t.is(a.shapley.find((s) => s.quantity === 'damage')?.seeds.length, 5);
});

test('the finetuned protocol reads beforeCorruption and afterCorruption, and measures the residual gap against the control', async (t) => {
  const dir = tempDir();
  writeSyntheticSweep(dir, { protocol: 'finetuned', clean: true, noise: 0 });
  const a = await analyze(dir, { resamples: 200 });
  const all = group(a, 'reinit all');
  const near = (x: number | null, y: number) => x !== null && Math.abs(x - y) < 1e-9;
  t.true(near(all.damage.mean, 0.41));
  // Healing adds healGain to every cell: the control takes it out of the residual gap ...
  t.true(near(all.controlScore.mean, TRUTH.cleanFinal + TRUTH.healGain));
  t.true(near(all.residualGap.mean, 0.123));
  t.true(near(all.recoveryRatio.value, (0.41 - 0.123) / 0.41));
  // ... which the gap to the task model before healing counts as recovery.
  t.true(near(all.gapToTaskModelBeforeHealing.mean, 0.123 - TRUTH.healGain));
  const control = group(a, 'control');
  t.true(near(control.residualGap.mean, 0));
  t.true(near(control.gapToTaskModelBeforeHealing.mean, -TRUTH.healGain));
  t.deepEqual(
    a.groups.slice(0, 2).map((g) => g.label),
    ['clean', 'control'],
  );
  t.is(all.curve[0]?.epoch, 0, 'the curve starts right after corruption');
  t.true(near(all.curve[0]?.summary.mean ?? null, TRUTH.cleanFinal - 0.41));
  const after = a.doseResponse.filter((s) => s.stage === 'after fine-tuning');
  t.true(
    after.length > 0 && after.every((s) => near(s.clean.mean, TRUTH.cleanFinal + TRUTH.healGain)),
    'dose 0 after healing: the control',
  );
  t.true(a.doseResponse.filter((s) => s.stage === 'before fine-tuning').every((s) => near(s.clean.mean, TRUTH.cleanFinal)));
  t.regex(a.definitions['residual gap'] as string, /finetuned: control score minus corrupted final/);
  t.truthy(a.definitions['gap to the task model before healing (no control)']);
  t.false(a.warnings.some((w) => /no done control/.test(w)));
});

test('a finetuned folder from before controls: no residual gap or ratio (never the uncontrolled gap), a warning that says why', async (t) => {
  const dir = tempDir();
  writeSyntheticSweep(dir, { protocol: 'finetuned', clean: true, noise: 0, controls: false });
  const a = await analyze(dir, { resamples: 200 });
  const all = group(a, 'reinit all');
  t.is(all.residualGap.mean, null);
  t.is(all.recoveryRatio.value, null);
  t.true(
    Math.abs((all.gapToTaskModelBeforeHealing.mean as number) - (0.123 - TRUTH.healGain)) < 1e-9,
    'still reported, under its own name',
  );
  t.true(Math.abs((all.damage.mean as number) - 0.41) < 1e-9);
  const cell = a.cells.find((c) => c.label === 'reinit all');
  t.regex(cell?.note ?? '', /no control cell/);
  const after = a.doseResponse.filter((s) => s.stage === 'after fine-tuning');
  t.true(after.length > 0 && after.every((s) => s.clean.mean === null && s.fitNote === 'no clean score to anchor the curve'));
  t.true(a.warnings.some((w) => /finetuned corrupted cells have no done control .*run the sweep again/.test(w)));
});

test('pretrained cells have no control score and no gap to the task model', async (t) => {
  const { analysis: a } = await sweep();
  t.true(a.cells.every((c) => c.controlScore === null && c.gapToTaskModelBeforeHealing === null));
  t.false(a.groups.some((g) => g.label === 'control'));
});

test('options are checked', async (t) => {
  const { dir } = await sweep();
  await t.throwsAsync(analyze(dir, { level: 2 }), { code: 'ERR_ARGUMENT', message: /options.level/ });
  await t.throwsAsync(analyze(dir, { resamples: 3 }), { code: 'ERR_ARGUMENT' });
  await t.throwsAsync(analyze(dir, { shapley: { permutations: 0 } }), { code: 'ERR_ARGUMENT' });
  await t.throwsAsync(analyze(join(dir, 'nope')), { code: 'ERR_DATA', message: /nope: not a sweep folder/ });
});
