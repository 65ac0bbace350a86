/**
 * Metrics against hand-computed cases and values printed by scikit-learn 1.2.1 / scipy 1.10.1 (Debian
 * python3-sklearn, python3-scipy) for the arrays below:
 *   accuracy_score, f1_score (binary; average='macro' / 'weighted'), matthews_corrcoef, pearsonr, spearmanr.
 */
import test from 'ava';
import { computeMetrics } from '../../src/data/compute-metrics.js';
import { accuracy, averageRanks, f1, macroF1, matthewsCorrelation, pearson, spearman, weightedF1 } from '../../src/data/metrics.js';

const close = (t: { true(v: boolean, m?: string): void }, actual: number, expected: number, what: string) =>
  t.true(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

const binY = [0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0];
const binP = [0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0];
const mcY = [2, 3, 0, 1, 1, 3, 1, 1, 3, 2, 3, 3, 2, 2, 3, 0, 2, 3, 1, 0, 1, 2, 0, 3, 0, 2, 0, 3, 3, 0];
const mcP = [3, 4, 4, 4, 0, 4, 3, 2, 0, 1, 1, 3, 0, 0, 1, 2, 4, 2, 0, 3, 2, 2, 0, 1, 0, 2, 2, 3, 2, 3];
const x = [0.6, 1.6, 2.1, 0.3, 3.5, 2.8, 1.3, 2.9, 2.9, 2.9, 4.6, 1.6, 3.3, 0.7, 3.6, 1.4, 0.9, 2.9, 0.1, 4.1, 0.0, 3.4, 1.4, 3.7, 4.8];
const z = [1.1, 0.1, 3.6, 4.7, 4.7, 2.6, 0.2, 3.7, 0.1, 4.1, 4.8, 2.6, 3.7, 1.4, 3.6, 3.2, 1.0, 3.3, 2.0, 2.8, -1.3, 4.4, 0.2, 5.6, 4.4];

test('binary: accuracy, F1 of class 1 and MCC equal scikit-learn', (t) => {
  close(t, accuracy(binP, binY), 0.5, 'accuracy');
  close(t, f1(binP, binY), 0.5454545454545454, 'f1');
  close(t, matthewsCorrelation(binP, binY), -0.007595326160340514, 'mcc');
});

test('multi-class (a predicted class absent from the labels): macro/weighted F1 and MCC equal scikit-learn', (t) => {
  close(t, accuracy(mcP, mcY), 0.2, 'accuracy');
  close(t, macroF1(mcP, mcY), 0.1604761904761905, 'macro');
  close(t, weightedF1(mcP, mcY), 0.21222222222222223, 'weighted');
  close(t, matthewsCorrelation(mcP, mcY), -0.013088088425052847, 'mcc');
});

test('Pearson and Spearman (with ties) equal scipy', (t) => {
  close(t, pearson(x, z), 0.6277384060182861, 'pearson');
  close(t, spearman(x, z), 0.6336617503979463, 'spearman');
});

test('hand-computed cases', (t) => {
  // tp 2, fp 1, fn 1: F1 = 4 / 6.
  close(t, f1([1, 1, 1, 0, 0], [1, 1, 0, 1, 0]), 2 / 3, 'f1');
  t.is(f1([0, 0], [0, 0]), 0, 'no positives at all: 0, as sklearn zero_division');
  t.is(matthewsCorrelation([1, 0, 1, 0], [1, 0, 1, 0]), 1);
  t.is(matthewsCorrelation([1, 0, 1, 0], [0, 1, 0, 1]), -1);
  t.is(matthewsCorrelation([1, 1, 1, 1], [1, 0, 1, 0]), 0, 'constant predictions: 0');
  t.deepEqual(Array.from(averageRanks([10, 20, 20, 30])), [1, 2.5, 2.5, 4]);
  t.true(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])), 'a constant series has no correlation (scipy: nan)');
  close(t, spearman([1, 2, 3, 4], [10, 20, 30, 100]), 1, 'monotone');
});

test('computeMetrics uses the task table: GLUE metric sets and the paper sets', (t) => {
  t.deepEqual(Object.keys(computeMetrics('cola', binP, binY).values), ['mcc']);
  t.deepEqual(Object.keys(computeMetrics('mrpc', binP, binY).values), ['f1', 'accuracy']);
  t.deepEqual(Object.keys(computeMetrics('qqp', binP, binY).values), ['f1', 'accuracy']);
  t.deepEqual(Object.keys(computeMetrics('sts-b', x, z).values), ['pearson', 'spearman']);
  t.deepEqual(Object.keys(computeMetrics('mnli-mm', [0, 1, 2], [0, 1, 1]).values), ['accuracy']);
  t.deepEqual(Object.keys(computeMetrics('ax', [0, 1, 2], [0, 1, 1]).values), ['mcc']);
  const emotion = computeMetrics('emotion', mcP, mcY);
  t.is(emotion.main.name, 'macro_f1');
  close(t, emotion.main.value, 0.1604761904761905, 'emotion macro-F1');
  t.throws(() => computeMetrics('sst2', [0.5], [1]), { code: 'ERR_ARGUMENT' });
  t.throws(() => computeMetrics('sst2', [1, 0], [1]), { code: 'ERR_ARGUMENT' });
});
