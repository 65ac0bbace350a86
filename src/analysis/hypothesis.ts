/**
 * Tests behind the claims a report makes: paired comparisons (bottom-k against top-k corruption, paired
 * by seed and level) and correlations. Every comparison carries its effect size, its number of pairs and
 * warnings when the pairs are too few to support the difference it reports.
 */
import { averageRanks, pearson } from '../data/metrics.js';
import { seededRandom } from '../data/random.js';
import { normalQuantile, tTwoSidedP } from './distributions.js';
import { type BootstrapOptions, bootstrapInterval, type Interval, mean, standardDeviation } from './stats.js';

/** A paired comparison of two conditions over the same seeds: the mean difference, its interval, tests, effect size and warnings. */
export interface PairedComparison {
  /** Number of pairs (seeds). */
  n: number;
  /** Mean of a - b. */
  meanDifference: number | null;
  sdDifference: number | null;
  /** Bootstrap interval of the mean difference. */
  ci: Interval | null;
  /** Paired t statistic, its degrees of freedom and two-sided p-value. */
  t: number | null;
  df: number | null;
  pT: number | null;
  /** Two-sided p of the sign-flip permutation test (exact up to 16 pairs, else 20,000 seeded draws). */
  pPermutation: number | null;
  /** Cohen's d_z: the mean difference over the standard deviation of the differences. */
  effectSize: number | null;
  /** Pairs needed for 80% power at alpha 0.05 to detect the observed d_z (Guenther's normal approximation). */
  seedsNeeded: number | null;
  warnings: string[];
}

/** Seeds needed by a two-sided paired t-test to detect d_z with the given power (Guenther 1981). */
export function seedsNeeded(effectSize: number, alpha = 0.05, power = 0.8): number {
  const d = Math.abs(effectSize);
  if (!(d > 0)) return Number.POSITIVE_INFINITY;
  const za = normalQuantile(1 - alpha / 2);
  const zb = normalQuantile(power);
  return Math.ceil(((za + zb) / d) ** 2 + za ** 2 / 2);
}

/** Two-sided sign-flip permutation p-value of the mean of the differences. */
export function signFlipP(differences: readonly number[], seed = 0): number {
  const n = differences.length;
  if (n === 0) return Number.NaN;
  const observed = Math.abs(mean(differences)) * n;
  const tolerance = 1e-12 * Math.max(1, observed);
  let extreme = 0;
  let total = 0;
  if (n <= 16) {
    for (let mask = 0; mask < 1 << n; mask++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += mask & (1 << i) ? -(differences[i] as number) : (differences[i] as number);
      if (Math.abs(sum) >= observed - tolerance) extreme++;
      total++;
    }
    return extreme / total;
  }
  const random = seededRandom(seed);
  const draws = 20_000;
  extreme = 1; // the observed assignment counts once (Phipson and Smyth's correction)
  for (let r = 0; r < draws; r++) {
    let sum = 0;
    for (const d of differences) sum += random() < 0.5 ? -d : d;
    if (Math.abs(sum) >= observed - tolerance) extreme++;
  }
  return extreme / (draws + 1);
}

/** Compares a[i] with b[i] (the same seed): is a larger than b, by how much, and can these seeds tell? */
export function pairedComparison(
  a: readonly number[],
  b: readonly number[],
  options: BootstrapOptions & { alpha?: number } = {},
): PairedComparison {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length (${a.length} vs ${b.length})`);
  const differences = a.map((x, i) => x - (b[i] as number));
  const n = differences.length;
  const alpha = options.alpha ?? 0.05;
  const warnings: string[] = [];
  // What a comparison without a test reports; the early returns below fill in what they know.
  const untested: PairedComparison = {
    n,
    meanDifference: null,
    sdDifference: null,
    ci: null,
    t: null,
    df: null,
    pT: null,
    pPermutation: null,
    effectSize: null,
    seedsNeeded: null,
    warnings,
  };
  if (n === 0) return { ...untested, warnings: ['no seed has both cells'] };
  const m = mean(differences);
  const sd = standardDeviation(differences);
  const ci = bootstrapInterval(differences, options);
  if (n < 2) {
    warnings.push('one seed: no spread and no test; run more seeds');
    return { ...untested, meanDifference: m, ci };
  }
  const pPermutation = signFlipP(differences, options.seed ?? 0);
  const smallestP = 2 / 2 ** n;
  if (smallestP > alpha) {
    warnings.push(
      `${n} seeds: the exact sign-flip test cannot go below p = ${smallestP.toPrecision(2)}; only the t-test, which assumes normal differences, can reach ${alpha}`,
    );
  }
  if (!(sd > 0)) {
    warnings.push('every seed shows the same difference: the t-test is undefined');
    return { ...untested, meanDifference: m, sdDifference: 0, ci, df: n - 1, pPermutation };
  }
  const t = m / (sd / Math.sqrt(n));
  const effectSize = m / sd;
  const needed = seedsNeeded(effectSize, alpha);
  if (n < needed) {
    warnings.push(
      `${n} seeds; a difference of this size (d_z = ${effectSize.toFixed(2)}) needs about ${Number.isFinite(needed) ? needed : 'infinitely many'} seeds for 80% power at alpha ${alpha}`,
    );
  }
  return {
    n,
    meanDifference: m,
    sdDifference: sd,
    ci,
    t,
    df: n - 1,
    pT: tTwoSidedP(t, n - 1),
    pPermutation,
    effectSize,
    seedsNeeded: needed,
    warnings,
  };
}

/** A Pearson or Spearman correlation with its two-sided p-value; null below three points. */
export interface Correlation {
  method: 'pearson' | 'spearman';
  n: number;
  r: number | null;
  /** Two-sided p from t = r sqrt((n - 2) / (1 - r^2)) with n - 2 degrees of freedom (scipy's pearsonr and spearmanr). */
  p: number | null;
}

/** Pearson or Spearman correlation of two paired samples, with the two-sided p-value of the t statistic (as scipy computes it). */
export function correlation(x: readonly number[], y: readonly number[], method: 'pearson' | 'spearman'): Correlation {
  if (x.length !== y.length) throw new RangeError(`samples differ in length (${x.length} vs ${y.length})`);
  const n = x.length;
  if (n < 3) return { method, n, r: null, p: null };
  const r = method === 'pearson' ? pearson(x, y) : pearson(averageRanks(x), averageRanks(y));
  if (Number.isNaN(r)) return { method, n, r: null, p: null };
  const df = n - 2;
  const p = Math.abs(r) >= 1 ? 0 : tTwoSidedP(r * Math.sqrt(df / (1 - r * r)), df);
  return { method, n, r, p };
}
