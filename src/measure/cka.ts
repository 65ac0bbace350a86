/**
 * Centred kernel alignment with a linear kernel (Kornblith et al. 2019): how similar two sets of
 * representations of the same n examples are, as 1 for identical inputs, invariant to orthogonal transforms
 * and isotropic scaling of either set, and comparable between sets of different widths.
 *
 *   linear    CKA(X, Y) = <HKH, HLH> / (|HKH| |HLH|),  K = XX', L = YY', H = I - 11'/n  (biased HSIC)
 *   debiased  the same ratio of the unbiased HSIC estimator (Song et al. 2012), as Nguyen, Raghu and
 *             Kornblith (2021) use it: with few examples and wide layers the biased estimator is pulled
 *             towards 1 for unrelated representations; the unbiased one is not (it can go below 0).
 *
 * Everything is accumulated in float64 from float32 inputs. Pure: no I/O, no addon.
 */
import { HealbertError } from '../errors.js';

export type CkaEstimator = 'linear' | 'debiased';

/**
 * The sufficient statistics of one representation set for CKA against any other set of the same examples:
 * its Gram matrix over the examples (n x n, row-major) in the form the estimator needs.
 */
export interface GramStats {
  n: number;
  estimator: CkaEstimator;
  /** linear: the centred Gram HKH; debiased: K with its diagonal set to 0. */
  gram: Float64Array;
  /** debiased: the row sums of `gram` and their total (unused by linear). */
  rowSums: Float64Array;
  total: number;
  /** HSIC of the set with itself (the normaliser). */
  self: number;
}

/** Column-centred float64 copy of n rows of d features (row-major). */
function centredColumns(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  const means = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) means[k] = (means[k] as number) + (x[i * d + k] as number);
  for (let k = 0; k < d; k++) means[k] = (means[k] as number) / n;
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) out[i * d + k] = (x[i * d + k] as number) - (means[k] as number);
  return out;
}

/** XX' (n x n) of row-major float64 rows, both triangles filled. */
function gramOf(x: Float64Array, n: number, d: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * d;
    for (let j = i; j < n; j++) {
      const rj = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += (x[ri + k] as number) * (x[rj + k] as number);
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  }
  return g;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Unbiased HSIC (Song et al. 2012) from two diagonal-free Gram matrices with their row sums and totals. */
function unbiasedHsic(a: GramStats, b: GramStats): number {
  const n = a.n;
  const trace = dot(a.gram, b.gram);
  const cross = dot(a.rowSums, b.rowSums);
  return (trace + (a.total * b.total) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * cross) / (n * (n - 3));
}

/**
 * The Gram statistics of n rows of d features (row-major, float32 or float64). Columns are centred first
 * (the linear kernel's CKA does not change, and the products lose less to cancellation).
 */
export function gramStats(x: ArrayLike<number>, n: number, d: number, estimator: CkaEstimator = 'linear'): GramStats {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 1 || d < 1 || x.length !== n * d)
    throw new HealbertError('ERR_ARGUMENT', `CKA: expected ${n} x ${d} = ${n * d} values, got ${x.length}`);
  return statsFromCentredGram(gramOf(centredColumns(x, n, d), n, d), n, estimator);
}

/**
 * The Gram statistics from a centred Gram matrix (n x n, float64, row-major: X'X' of the column-centred
 * features X', as the engine's centredGram computes it). Takes ownership of `gram`.
 */
export function statsFromCentredGram(gram: Float64Array, n: number, estimator: CkaEstimator = 'linear'): GramStats {
  if (gram.length !== n * n)
    throw new HealbertError('ERR_ARGUMENT', `CKA: a Gram matrix of ${n} examples has ${n * n} entries, got ${gram.length}`);
  if (estimator === 'debiased' && n < 4) throw new HealbertError('ERR_ARGUMENT', `debiased CKA needs at least 4 examples, got ${n}`);
  const g = gram;
  const rowSums = new Float64Array(estimator === 'debiased' ? n : 0);
  let total = 0;
  if (estimator === 'debiased') {
    // The unbiased estimator is invariant to the features' means, so the centred Gram serves it too.
    for (let i = 0; i < n; i++) g[i * n + i] = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += g[i * n + j] as number;
      rowSums[i] = s;
      total += s;
    }
  }
  // linear: centred columns give HKH already (the rows and columns of XX' sum to 0).
  const stats: GramStats = { n, estimator, gram: g, rowSums, total, self: 0 };
  stats.self = estimator === 'debiased' ? unbiasedHsic(stats, stats) : dot(g, g);
  return stats;
}

/**
 * CKA of two sets from their Gram statistics (same examples, same estimator). NaN when either set is
 * constant (its HSIC with itself is 0, or not positive for the debiased estimator).
 */
export function ckaFromStats(a: GramStats, b: GramStats): number {
  if (a.n !== b.n) throw new HealbertError('ERR_ARGUMENT', `CKA: the sets have ${a.n} and ${b.n} examples`);
  if (a.estimator !== b.estimator) throw new HealbertError('ERR_ARGUMENT', 'CKA: the sets were prepared for different estimators');
  if (!(a.self > 0) || !(b.self > 0)) return Number.NaN;
  const hsic = a.estimator === 'debiased' ? unbiasedHsic(a, b) : dot(a.gram, b.gram);
  return hsic / Math.sqrt(a.self * b.self);
}

/** CKA of X (n x dx) and Y (n x dy), row-major. */
export function cka(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  dx: number,
  dy: number,
  estimator: CkaEstimator = 'linear',
): number {
  return ckaFromStats(gramStats(x, n, dx, estimator), gramStats(y, n, dy, estimator));
}
