import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { analyze } from '../../src/analysis/analyze.js';
import { planShapleyCells } from '../../src/analysis/plan.js';
import { planShapleySweep } from '../../src/analysis/plan-from-sweep.js';
import { expandSweep } from '../../src/sweep/expand.js';
import { loadSpec } from '../../src/sweep/run.js';
import { writeGameSweep, writeSyntheticSweep } from './helpers/synthetic-sweep.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-plan-'));
  dirs.push(dir);
  return dir;
};
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const reinit = { method: 'reinit' as const, targets: {}, label: 'reinit' };
// A non-additive game on 5 layers: weights falling with depth, and a bonus when layers 0 and 1 go together.
const game = (layers: number[]) => layers.reduce((s, l) => s + 0.1 / (l + 1), 0) + (layers.includes(0) && layers.includes(1) ? 0.05 : 0);

test('the exact plan lists every subset for every seed, plus the clean baselines', (t) => {
  const cells = planShapleyCells({ layers: 3, corruption: reinit, seeds: [1, 2], model: 'm', task: 'sst2' });
  t.is(cells.length, 2 * (1 + 7));
  t.is(cells.filter((c) => c.corruption === null).length, 2);
  const sets = cells
    .filter((c) => c.seed === 1 && c.corruption)
    .map((c) => (c.corruption as { targets: { layers: number[] } }).targets.layers);
  t.deepEqual(sets, [[0], [1], [0, 1], [2], [0, 2], [1, 2], [0, 1, 2]]);
  t.is((cells[1]?.corruption as { label: string } | undefined)?.label, 'reinit layers 0');
  t.is(cells[0]?.model, 'm');
});

test('plans refuse what they cannot do', (t) => {
  t.throws(() => planShapleyCells({ layers: 13, corruption: reinit, seeds: [1] }), {
    code: 'ERR_ARGUMENT',
    message: /sample permutations/,
  });
  t.throws(() => planShapleyCells({ layers: 3, corruption: { ...reinit, vary: { level: [1] } }, seeds: [1] }), { code: 'ERR_ARGUMENT' });
  t.throws(() => planShapleyCells({ layers: 3, corruption: { ...reinit, targets: { include: ['embeddings'] } }, seeds: [1] }), {
    code: 'ERR_ARGUMENT',
  });
  t.throws(() => planShapleyCells({ layers: 3, corruption: reinit, seeds: [] }), { code: 'ERR_ARGUMENT' });
  t.throws(() => planShapleyCells({ layers: 3, corruption: reinit, seeds: [1], permutations: 0 }), { code: 'ERR_ARGUMENT' });
});

test('plan -> sweep -> analysis: exact Shapley from an exact plan, Monte-Carlo with standard errors from a sampled one', async (t) => {
  const exactDir = tempDir();
  writeGameSweep(exactDir, 5, planShapleyCells({ layers: 5, corruption: reinit, seeds: [1, 2] }), game);
  const exact = (await analyze(exactDir, { resamples: 200 })).shapley.find((s) => s.quantity === 'damage');
  t.is(exact?.estimator, 'exact');
  // phi_i = 0.1 / (i + 1), plus 0.025 for layers 0 and 1.
  const truth = [0.1 + 0.025, 0.05 + 0.025, 0.1 / 3, 0.025, 0.02];
  for (const v of exact?.values ?? []) t.true(Math.abs((v.value.mean as number) - (truth[v.layer] as number)) < 1e-9);

  const mcDir = tempDir();
  const plan = planShapleyCells({ layers: 5, corruption: reinit, seeds: [1, 2, 3], permutations: 8, permutationSeed: 4 });
  t.true(plan.length < 3 * 32, 'sampling needs fewer cells than the 31 subsets per seed');
  writeGameSweep(mcDir, 5, plan, game);
  const withoutPlan = (await analyze(mcDir, { resamples: 200 })).shapley.find((s) => s.quantity === 'damage');
  t.is(withoutPlan?.estimator, 'unavailable', 'another plan (the default 32 permutations, seed 0) is not covered');
  t.true((withoutPlan?.missingCount as number) > 0);
  const mc = (await analyze(mcDir, { resamples: 200, shapley: { permutations: 8, seed: 4 } })).shapley.find((s) => s.quantity === 'damage');
  t.is(mc?.estimator, 'monte-carlo');
  t.is(mc?.permutations, 8);
  t.deepEqual(mc?.seeds, [1, 2, 3]);
  const sum = (mc?.values ?? []).reduce((s, v) => s + (v.value.mean as number), 0);
  t.true(Math.abs(sum - game([0, 1, 2, 3, 4])) < 1e-9, 'efficient');
  for (const v of mc?.values ?? []) {
    t.true(v.standardError !== null && Number.isFinite(v.standardError));
    t.true(Math.abs((v.value.mean as number) - (truth[v.layer] as number)) < 4 * (v.standardError as number) + 1e-9, `layer ${v.layer}`);
  }
});

test('a plan from a sweep folder takes its models, tasks, seeds and depth', async (t) => {
  const dir = tempDir();
  writeSyntheticSweep(dir, { clean: true });
  const spec = await planShapleySweep(dir, { corruption: { method: 'gaussian', level: 0.1, relative: true, targets: {} } });
  t.is(spec.name, 'synthetic-shapley');
  t.is(spec.cells?.length, 5 * 8);
  t.deepEqual(
    spec.tasks?.map((task) => (typeof task === 'string' ? task : task.name)),
    ['sst2'],
  );
  t.is(spec.cells?.[0]?.model, 'tiny-synthetic');
  t.false('corruptions' in spec);
});

test('the sweeps module accepts a Shapley plan as it is and expands it into exactly the planned cells', async (t) => {
  const dir = tempDir();
  writeSyntheticSweep(dir, { clean: true });
  const plan = await planShapleySweep(dir, { corruption: { method: 'reinit', targets: {} }, seeds: [1, 2] });
  const { spec } = await loadSpec(JSON.parse(JSON.stringify(plan)));
  const expanded = expandSweep(spec);
  t.is(expanded.cells.length, 2 * 8);
  const labels = expanded.cells.map((c) => c.config.corruption?.label ?? 'clean');
  t.true(labels.includes('reinit layers 0,2'));
});
