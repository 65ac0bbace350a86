/**
 * analyzeMeasurements: the cells' measurements summarised per condition, from hand-made results with known
 * values (the sweep tests in test/measure run the real thing).
 */
import test from 'ava';
import { summarizeGroups } from '../../src/analysis/groups.js';
import type { SweepCell } from '../../src/analysis/load.js';
import { analyzeMeasurements } from '../../src/analysis/measurements.js';
import { measureCells } from '../../src/analysis/quantities.js';
import type { CellMeasurements, WeightSums } from '../../src/measure/types.js';
import type { CellResult } from '../../src/sweep/types.js';
import { configOf } from './helpers/synthetic-sweep.js';

const sums = (dot: number, modelSq: number, referenceSq: number, diffSq: number): WeightSums => ({
  numel: 4,
  dot,
  modelSq,
  referenceSq,
  diffSq,
});
const corruption = {
  method: 'reinit' as const,
  level: 0,
  relative: false,
  init: 'kaiming-sqrt5' as const,
  fraction: 1,
  bits: 'any' as const,
  targets: { layers: 'bottom:1' },
  label: 'reinit bottom:1',
};

function cell(seed: number, corrupted: boolean, measurements: CellMeasurements): SweepCell {
  const config = configOf('pretrained', '/m', corrupted ? corruption : null, seed);
  const id = `${corrupted ? 'c' : 'b'}${seed}`;
  const result = {
    format: 1,
    id,
    status: 'done',
    config,
    baselineId: corrupted ? `b${seed}` : null,
    primaryMetric: 'accuracy',
    scores: {
      probe: { accuracy: 0.6 },
      epochs: [{ epoch: 1, step: 1, trainLoss: 1, metrics: { accuracy: 0.7 }, seconds: 1 }],
      final: { accuracy: 0.7 },
    },
    timings: { total: 10 },
    measurements,
    device: 'cpu',
    versions: { healbert: '0', libtorch: '0', node: '0' },
    worker: { host: 'h', pid: 1 },
    startedAt: '',
    finishedAt: '',
  } as CellResult;
  return { id, status: 'done', config, result };
}

const cells: SweepCell[] = [0, 1, 2].flatMap((seed) => [
  cell(seed, false, {
    seconds: { cka: 1, weights: 2 },
    mlm: { examples: 8, positions: 20, beforeCorruption: { loss: 3, accuracy: 0.3 }, final: { loss: 3.5 + seed, accuracy: 0.25 } },
    weights: { toPretrained: [{ layer: 0, component: 'attention.query', sums: sums(1, 1, 1, 0.01) }], updates: [] },
  }),
  cell(seed, true, {
    seconds: { cka: 1 + seed, weights: 2 },
    cka: {
      estimator: 'linear',
      examples: 8,
      beforeHealing: [
        { layer: -1, mean: 1, first: null },
        { layer: 0, mean: 0.5 + 0.1 * seed, first: 0.2 },
      ],
      afterHealing: [
        { layer: -1, mean: 0.9, first: null },
        { layer: 0, mean: 0.8, first: 0.7 },
      ],
    },
    mlm: {
      examples: 8,
      positions: 20,
      beforeCorruption: { loss: 3, accuracy: 0.3 },
      afterCorruption: { loss: 6, accuracy: 0.05 },
      final: { loss: 4 + 2 * seed, accuracy: 0.2 },
    },
    weights: {
      toPretrained: [
        // A part's whole: the matrices, not the LayerNorm gains.
        { layer: 0, component: 'attention.query', sums: sums(0, 1, 1, 2) },
        { layer: 0, component: 'attention.layernorm', sums: sums(100, 100, 100, 0) },
      ],
      reinit: [{ layer: 0, component: 'attention.query', atReinit: sums(0, 1, 1, 2), healed: sums(seed === 2 ? -0.1 : 0.1, 1, 1, 1.8) }],
      updates: [{ epoch: 1, layer: 0, updateSq: 4, weightSq: 16 }],
    },
  }),
]);

test('per condition: CKA by layer and pooling, weights by part and component, returns toward originals, MLM against the clean cell, costs', (t) => {
  const groups = summarizeGroups(measureCells(cells), { seed: 1, resamples: 200 });
  const m = analyzeMeasurements(cells, groups, new Map([['tiny-synthetic', { layers: 1 }]]), { seed: 1, resamples: 200 });
  const cka = m.cka.find(
    (r) => r.condition === 'reinit bottom:1' && r.comparison === 'beforeHealing' && r.pooling === 'mean' && r.layer === 0,
  );
  t.true(Math.abs((cka?.cka.mean ?? 0) - 0.6) < 1e-12);
  t.is(cka?.cka.n, 3);
  t.is(
    m.cka.find((r) => r.comparison === 'afterHealing' && r.pooling === 'first' && r.layer === -1)?.cka.n,
    0,
    'no CKA where the first token is constant',
  );
  const whole = m.weights.find((r) => r.condition === 'reinit bottom:1' && r.part === 'layer 0' && r.component === null);
  t.true(Math.abs((whole?.distance.mean ?? 0) - Math.SQRT2) < 1e-12, 'the LayerNorm gains stay out of the whole');
  t.true(
    Math.abs(m.weights.find((r) => r.condition === 'reinit bottom:1' && r.component === 'attention.layernorm')?.distance.mean ?? 1) < 1e-12,
  );
  const back = m.reinit[0];
  t.is(back?.returned, 2);
  t.is(back?.n, 3);
  t.true(Math.abs((back?.change.mean ?? 0) - 0.1 / 3) < 1e-12);
  const update = m.updates.find((r) => r.condition === 'reinit bottom:1');
  t.like(update, { epoch: 1, part: 'layer 0' });
  t.true(Math.abs((update?.relative.mean ?? 0) - 0.5) < 1e-12);
  const final = m.mlm.find((r) => r.condition === 'reinit bottom:1' && r.stage === 'final');
  // Paired by seed: (4 + 2s) - (3.5 + s) = 0.5 + s, mean 1.5.
  t.true(Math.abs((final?.lossVsClean?.mean ?? 0) - 1.5) < 1e-12);
  t.is(m.mlm.find((r) => r.condition === 'clean' && r.stage === 'final')?.lossVsClean, null, 'the clean cell is the reference');
  t.true(Math.abs((m.costs.find((r) => r.condition === 'reinit bottom:1')?.cka.mean ?? 0) - 2) < 1e-12);
});
