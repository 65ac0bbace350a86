import test from 'ava';
import { fitLogistic, logistic, nelderMead } from '../../src/analysis/fit.js';
import {
  coalitionsNeeded,
  exactShapley,
  layersOfMask,
  maskOf,
  permutationShapley,
  samplePermutations,
  shapleyInteraction,
} from '../../src/analysis/shapley.js';

// A 3-layer game: v(A)=10, v(B)=20, v(C)=30, v(AB)=40, v(AC)=50, v(BC)=60, v(ABC)=90.
// By hand: phi_A = 10/3 + 20/6 + 20/6 + 30/3 = 20; phi_B = 20/3 + 30/6 + 30/6 + 40/3 = 30; phi_C = 30/3 + 40/6 + 40/6 + 50/3 = 40.
const GAME = new Map([
  [0, 0],
  [0b001, 10],
  [0b010, 20],
  [0b100, 30],
  [0b011, 40],
  [0b101, 50],
  [0b110, 60],
  [0b111, 90],
]);
const v = (mask: number) => GAME.get(mask) as number;
const closeAll = (t: import('ava').ExecutionContext, actual: number[], expected: number[], tolerance = 1e-9) =>
  t.true(
    actual.every((a, i) => Math.abs(a - (expected[i] as number)) <= tolerance),
    `${actual} vs ${expected}`,
  );

test('exact Shapley on a 3-layer game with a known answer', (t) => {
  closeAll(t, exactShapley(3, v), [20, 30, 40]);
  // The glove game: layer 0 holds the left glove, 1 and 2 right gloves; a pair is worth 1. Known: (2/3, 1/6, 1/6).
  const glove = (mask: number) => (mask & 1 && mask & 0b110 ? 1 : 0);
  closeAll(t, exactShapley(3, glove), [2 / 3, 1 / 6, 1 / 6]);
  // Efficiency, symmetry and the null player on an additive game.
  closeAll(
    t,
    exactShapley(4, (m) => layersOfMask(m).reduce((s, l) => s + ([1, 2, 0, 4][l] as number), 0)),
    [1, 2, 0, 4],
  );
});

test('the Shapley interaction index by hand', (t) => {
  // I_AB = 1/2 (v(AB) - v(A) - v(B) + v()) + 1/2 (v(ABC) - v(AC) - v(BC) + v(C)) = 1/2 * 10 + 1/2 * 10 = 10
  t.is(shapleyInteraction(3, v, 0, 1), 10);
  // I_AC = 1/2 (50 - 10 - 30) + 1/2 (90 - 40 - 60 + 20) = 5 + 5 = 10; I_BC = 1/2 (60 - 50) + 1/2 (90 - 40 - 50 + 10) = 5 + 5 = 10
  t.is(shapleyInteraction(3, v, 0, 2), 10);
  t.is(shapleyInteraction(3, v, 1, 2), 10);
  t.is(
    shapleyInteraction(3, (m) => layersOfMask(m).length, 0, 2),
    0,
    'additive games have no interaction',
  );
});

test('Monte-Carlo Shapley: all permutations give the exact values; samples converge with a standard error', (t) => {
  const all = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  const full = permutationShapley(3, all, v);
  closeAll(t, full.values, [20, 30, 40]);
  t.true(full.standardErrors.every((se) => se > 0));
  const sampled = permutationShapley(3, samplePermutations(3, 400, 1), v);
  for (let i = 0; i < 3; i++) {
    const err = Math.abs((sampled.values[i] as number) - ([20, 30, 40][i] as number));
    t.true(err < 4 * (sampled.standardErrors[i] as number), `layer ${i}: error ${err}, se ${sampled.standardErrors[i]}`);
  }
  // Every permutation telescopes to v(all): the estimate is efficient whatever the sample.
  t.true(Math.abs(sampled.values.reduce((a, b) => a + b, 0) - 90) < 1e-9);
});

test('plans: the permutations are seeded; their coalitions are the prefixes', (t) => {
  t.deepEqual(samplePermutations(5, 3, 9), samplePermutations(5, 3, 9));
  t.notDeepEqual(samplePermutations(5, 3, 9), samplePermutations(5, 3, 10));
  t.deepEqual(coalitionsNeeded(3), [1, 2, 3, 4, 5, 6, 7]);
  const needed = coalitionsNeeded(4, [
    [2, 0, 3, 1],
    [2, 1, 0, 3],
  ]);
  t.deepEqual(needed.map(layersOfMask), [[2], [0, 2], [1, 2], [0, 1, 2], [0, 2, 3], [0, 1, 2, 3]]);
  t.is(maskOf([0, 2]), 5);
});

test('logistic fit recovers a known dose-response curve and its half-loss dose', (t) => {
  const truth = { top: 0.9, bottom: 0.5, mid: Math.log(0.1), slope: 2 };
  const points = [0.01, 0.03, 0.1, 0.3, 1, 3].map((dose) => ({
    dose,
    score: logistic(Math.log(dose), truth.top, truth.bottom, truth.mid, truth.slope),
  }));
  const fit = fitLogistic(points, 0.9, true);
  t.truthy(fit);
  t.true(Math.abs((fit?.halfDose ?? 0) - 0.1) < 1e-3, `half dose ${fit?.halfDose}`);
  t.true(Math.abs((fit?.bottom ?? 0) - 0.5) < 1e-3, `bottom ${fit?.bottom}`);
  t.true(Math.abs((fit?.slope ?? 0) - 2) < 1e-2, `slope ${fit?.slope}`);
  t.true(fit?.halfDoseMeasured);
  t.is(fitLogistic(points.slice(0, 2), 0.9, true), null, 'two doses are not a curve');
  // A curve whose midpoint lies beyond the doses measured says so.
  const early = [0.01, 0.02, 0.03].map((dose) => ({ dose, score: logistic(Math.log(dose), 0.9, 0.5, Math.log(1), 3) }));
  t.false(fitLogistic(early, 0.9, true)?.halfDoseMeasured);
  const min = nelderMead(([x = 0, y = 0]) => (x - 1) ** 2 + (y + 2) ** 2, [0, 0], [1, 1]);
  t.true(Math.abs((min.x[0] as number) - 1) < 1e-6 && Math.abs((min.x[1] as number) + 2) < 1e-6);
});
