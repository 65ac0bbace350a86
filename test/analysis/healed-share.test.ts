/**
 * The healed share exists only where there is damage to heal, and a corruption that leaves the model better
 * than its reference is a finding of its own (the README's demo once printed "healed share 246.3%" for a
 * damage of -1.6 [-2.6, -0.7] points).
 */
import test from 'ava';
import { healingFinding, noShareReason, summarizeGroups } from '../../src/analysis/groups.js';
import type { CellMeasures } from '../../src/analysis/quantities.js';
import type { Summary } from '../../src/analysis/stats.js';
import { configOf } from './helpers/synthetic-sweep.js';

const s = (mean: number | null, low?: number, high?: number): Summary => ({
  n: 3,
  mean,
  sd: null,
  ci: low === undefined || high === undefined ? null : { low, high },
});

test('a share needs positive damage whose interval excludes 0; otherwise the reason says why', (t) => {
  const gap = s(0.01, -0.005, 0.02);
  t.is(noShareReason(s(0.05, 0.02, 0.08), gap, 0.01), null);
  t.is(noShareReason(s(-0.016, -0.026, -0.007), s(0.023, 0.016, 0.029), 0.01), 'no damage to heal');
  t.is(noShareReason(s(0, -0.01, 0.01), gap, 0.01), 'no damage to heal');
  t.is(noShareReason(s(0.027, -0.001, 0.05), gap, 0.01), 'damage not distinguishable from 0');
  t.is(noShareReason(s(0.02), gap, 0.01), 'damage not distinguishable from 0 (one seed: no interval)');
  t.is(noShareReason(s(0.005, 0.002, 0.008), gap, 0.01), 'damage below the minimum (0.01)');
  t.is(noShareReason(s(0.05, 0.02, 0.08), s(-0.02, -0.03, -0.01), 0.01), 'better than the reference: the corruption improved the model');
});

test('the residual gap interval decides the finding', (t) => {
  t.is(healingFinding(s(0.02, 0.01, 0.03)), 'not fully healed');
  t.is(healingFinding(s(-0.02, -0.03, -0.01)), 'better than reference');
  t.is(healingFinding(s(0.01, -0.01, 0.03)), 'gap not distinguishable from 0');
  t.is(healingFinding(s(null)), 'no residual gap');
});

test('a condition with negative damage gets no share, a damaged one does', (t) => {
  const corruption = {
    method: 'reinit' as const,
    level: 0,
    relative: false,
    init: 'kaiming-sqrt5' as const,
    fraction: 1,
    bits: 'any' as const,
    targets: { layers: 'bottom:2' },
  };
  const cell = (label: string, seed: number, damage: number, gap: number): CellMeasures => ({
    id: `${label}-${seed}`,
    status: 'done',
    config: configOf('pretrained', '/m', { ...corruption, targets: { layers: label === 'damaged' ? 'top:2' : 'bottom:2' }, label }, seed),
    seed,
    label,
    metric: 'accuracy',
    baselineId: null,
    note: null,
    cleanScore: 0.7,
    cleanBefore: 0.6,
    corruptedBefore: 0.6 - damage,
    damage,
    recovered: 0.7 - gap,
    controlScore: null,
    residualGap: gap,
    gapToTaskModelBeforeHealing: null,
    recoveryRatio: null,
    curve: [],
  });
  const groups = summarizeGroups(
    [
      ...[0, 1, 2].map((seed) => cell('improved by it', seed, -0.016 + 0.004 * seed, 0.023)),
      ...[0, 1, 2].map((seed) => cell('damaged', seed, 0.1 + 0.01 * seed, 0.02 + 0.001 * seed)),
    ],
    { seed: 1, resamples: 500 },
  );
  const improved = groups.find((g) => g.label === 'improved by it');
  const damaged = groups.find((g) => g.label === 'damaged');
  t.is(improved?.recoveryRatio.value, null);
  t.is(improved?.recoveryRatio.reason, 'no damage to heal');
  t.is(damaged?.recoveryRatio.reason, null);
  t.true(Math.abs((damaged?.recoveryRatio.value ?? 0) - (0.11 - 0.021) / 0.11) < 1e-12);
  t.is(damaged?.finding, 'not fully healed');
});
