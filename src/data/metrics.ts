/**
 * Metrics as the GLUE leaderboard (and scikit-learn / scipy, which Hugging Face's `evaluate` calls)
 * computes them: accuracy; F1 of the positive class (1); Matthews correlation (sklearn's multi-class
 * form); Pearson; Spearman with tied values given their average rank; macro- and weighted-F1 over the
 * labels that occur in either array (sklearn's default). A 0/0 is 0, as sklearn's `zero_division`
 * default gives; a correlation of a constant series is NaN, as scipy gives.
 */
import { HealbertError } from '../errors.js';

/** The metrics healbert computes, named as GLUE names them. */
export type MetricName = 'accuracy' | 'f1' | 'mcc' | 'pearson' | 'spearman' | 'macro_f1' | 'weighted_f1';

/** Predictions, labels or scores: any array-like of numbers. */
export type Values = ArrayLike<number>;

function checkLengths(predictions: Values, labels: Values): number {
  if (predictions.length !== labels.length) {
    throw new HealbertError('ERR_ARGUMENT', `predictions (${predictions.length}) and labels (${labels.length}) differ in length`);
  }
  if (labels.length === 0) throw new HealbertError('ERR_ARGUMENT', 'metrics need at least one example');
  return labels.length;
}

/** The share of predictions equal to their labels. */
export function accuracy(predictions: Values, labels: Values): number {
  const n = checkLengths(predictions, labels);
  let correct = 0;
  for (let i = 0; i < n; i++) if (predictions[i] === labels[i]) correct++;
  return correct / n;
}

/** F1 of one class against the rest (binary F1 with `positive` = 1 is GLUE's MRPC/QQP F1). */
export function f1(predictions: Values, labels: Values, positive = 1): number {
  const n = checkLengths(predictions, labels);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const p = predictions[i] === positive;
    const t = labels[i] === positive;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  const denominator = 2 * tp + fp + fn;
  return denominator === 0 ? 0 : (2 * tp) / denominator;
}

/** Labels occurring in either array, sorted. */
function presentLabels(predictions: Values, labels: Values): number[] {
  const set = new Set<number>();
  for (let i = 0; i < labels.length; i++) {
    set.add(labels[i] as number);
    set.add(predictions[i] as number);
  }
  return [...set].sort((a, b) => a - b);
}

/** The unweighted mean of the per-class F1 scores over the classes present in predictions or labels. */
export function macroF1(predictions: Values, labels: Values): number {
  checkLengths(predictions, labels);
  const classes = presentLabels(predictions, labels);
  let sum = 0;
  for (const c of classes) sum += f1(predictions, labels, c);
  return sum / classes.length;
}

/** The mean of the per-class F1 scores weighted by each class's support (its count in the labels). */
export function weightedF1(predictions: Values, labels: Values): number {
  const n = checkLengths(predictions, labels);
  const support = new Map<number, number>();
  for (let i = 0; i < n; i++) support.set(labels[i] as number, (support.get(labels[i] as number) ?? 0) + 1);
  let sum = 0;
  for (const c of presentLabels(predictions, labels)) sum += (support.get(c) ?? 0) * f1(predictions, labels, c);
  return sum / n;
}

/** Matthews correlation coefficient; for more than two classes, sklearn's generalisation (Gorodkin's R_K). */
export function matthewsCorrelation(predictions: Values, labels: Values): number {
  const n = checkLengths(predictions, labels);
  const classes = presentLabels(predictions, labels);
  const index = new Map(classes.map((c, i) => [c, i]));
  const t = new Float64Array(classes.length);
  const p = new Float64Array(classes.length);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const ti = index.get(labels[i] as number) as number;
    const pi = index.get(predictions[i] as number) as number;
    t[ti] = (t[ti] as number) + 1;
    p[pi] = (p[pi] as number) + 1;
    if (predictions[i] === labels[i]) correct++;
  }
  let pt = 0;
  let pp = 0;
  let tt = 0;
  for (let k = 0; k < classes.length; k++) {
    pt += (p[k] as number) * (t[k] as number);
    pp += (p[k] as number) ** 2;
    tt += (t[k] as number) ** 2;
  }
  const covYtYp = correct * n - pt;
  const covYpYp = n * n - pp;
  const covYtYt = n * n - tt;
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

/** Pearson's correlation coefficient of two samples of equal length. */
export function pearson(x: Values, y: Values): number {
  const n = checkLengths(x, y);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks; tied values share the average of the ranks they span (scipy's rankdata 'average'). */
export function averageRanks(values: Values): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end] as number] === values[order[start] as number]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k] as number] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson's correlation of the average ranks (ties share their mean rank). */
export function spearman(x: Values, y: Values): number {
  checkLengths(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

const METRICS: Record<MetricName, (predictions: Values, labels: Values) => number> = {
  accuracy,
  f1: (p, l) => f1(p, l, 1),
  mcc: matthewsCorrelation,
  pearson,
  spearman,
  macro_f1: macroF1,
  weighted_f1: weightedF1,
};

/** Computes the named metric of predictions against labels. */
export function metric(name: MetricName, predictions: Values, labels: Values): number {
  return METRICS[name](predictions, labels);
}

/** Every metric name {@link metric} accepts. */
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];
