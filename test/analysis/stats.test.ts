import test from 'ava';
import { incompleteBeta, logGamma, normalQuantile, tTwoSidedP } from '../../src/analysis/distributions.js';
import { correlation, pairedComparison, seedsNeeded, signFlipP } from '../../src/analysis/hypothesis.js';
import { bootstrapInterval, mean, quantile, standardDeviation, summarize } from '../../src/analysis/stats.js';
import { seededRandom } from '../../src/data/random.js';

const close = (t: import('ava').ExecutionContext, actual: number | null, expected: number, tolerance: number, what = '') => {
  t.true(actual !== null && Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (tolerance ${tolerance})`);
};

test('descriptive statistics by hand', (t) => {
  t.is(mean([1, 2, 3, 4]), 2.5);
  close(t, standardDeviation([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), 1e-12, 'sd');
  t.true(Number.isNaN(standardDeviation([1])));
  // numpy.quantile([1, 2, 3, 4], 0.25) = 1.75 (linear interpolation)
  t.is(quantile([1, 2, 3, 4], 0.25), 1.75);
  t.is(quantile([5], 0.9), 5);
  t.deepEqual(summarize([]), { n: 0, mean: null, sd: null, ci: null });
  const one = summarize([0.7]);
  t.is(one.n, 1);
  t.is(one.ci, null);
});

test('special functions against scipy', (t) => {
  // scipy.special.gammaln(0.5), gammaln(10.3), gammaln(100) (scipy 1.17.1)
  close(t, logGamma(0.5), 0.5723649429247, 1e-12, 'lgamma 0.5');
  close(t, logGamma(10.3), 13.482036786138359, 1e-11, 'lgamma 10.3');
  close(t, logGamma(100), 359.1342053695754, 1e-9, 'lgamma 100');
  // scipy.special.betainc(2.5, 0.5, 0.3), betainc(10, 3, 0.9)
  close(t, incompleteBeta(0.3, 2.5, 0.5), 0.018927124071945658, 1e-12, 'betainc');
  close(t, incompleteBeta(0.9, 10, 3), 0.889130022255, 1e-11, 'betainc');
  // scipy.stats.norm.ppf(0.975), ppf(0.8), ppf(0.001)
  close(t, normalQuantile(0.975), 1.959963984540054, 1e-8, 'ppf');
  close(t, normalQuantile(0.8), 0.8416212335729143, 1e-8, 'ppf');
  close(t, normalQuantile(0.001), -3.090232306167813, 1e-8, 'ppf');
  // 2 * scipy.stats.t.sf(|t|, df)
  const cases: [number, number, number][] = [
    [2.0, 4, 0.11611652351681556],
    [0.5, 10, 0.627893605742973],
    [3.7, 2, 0.06590671019436672],
    [-1.2, 30, 0.23953035088966237],
    [10, 7, 2.1394202890772802e-5],
  ];
  for (const [tv, df, p] of cases) close(t, tTwoSidedP(tv, df), p, 1e-12 + 1e-10 * p, `t=${tv} df=${df}`);
});

test('Pearson and Spearman with p-values agree with scipy', (t) => {
  const x = [1.2, 2.4, 3.1, 4.8, 5.0, 6.3, 7.7, 8.1];
  const y = [2.0, 2.9, 2.7, 5.5, 4.1, 6.0, 9.2, 8.0];
  // scipy.stats.pearsonr(x, y) and scipy.stats.spearmanr(x, y) (scipy 1.17.1)
  const p = correlation(x, y, 'pearson');
  close(t, p.r, 0.9535991897848977, 1e-12, 'pearson r');
  close(t, p.p, 0.00024114542711385314, 1e-12, 'pearson p');
  const s = correlation(x, y, 'spearman');
  close(t, s.r, 0.9285714285714287, 1e-12, 'spearman r');
  close(t, s.p, 0.0008629681828999767, 1e-12, 'spearman p');
  // With ties: spearmanr / pearsonr([1,2,2,3,4,4,4,5,6,7], [3,1,4,1,5,9,2,6,5,3])
  const a = [1, 2, 2, 3, 4, 4, 4, 5, 6, 7];
  const b = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
  close(t, correlation(a, b, 'spearman').r, 0.42547404571870995, 1e-12, 'spearman ties r');
  close(t, correlation(a, b, 'spearman').p, 0.22025108522647133, 1e-10, 'spearman ties p');
  close(t, correlation(a, b, 'pearson').r, 0.3073125215676145, 1e-12, 'pearson ties r');
  close(t, correlation(a, b, 'pearson').p, 0.38772484229764537, 1e-10, 'pearson ties p');
  t.is(correlation([1, 2], [3, 4], 'pearson').r, null, 'two points are no correlation');
  t.is(correlation([1, 1, 1], [3, 4, 5], 'spearman').r, null, 'constant x');
});

test('paired comparison: t-test against scipy.stats.ttest_rel, effect size and sign-flip p by hand', (t) => {
  const bottom = [0.21, 0.25, 0.19, 0.3, 0.22];
  const top = [0.05, 0.09, 0.02, 0.08, 0.1];
  const c = pairedComparison(bottom, top, { seed: 3 });
  t.is(c.n, 5);
  // scipy.stats.ttest_rel(bottom, top): statistic 10.375, pvalue 0.0004872688407731268
  close(t, c.t, 10.375, 1e-9, 't');
  close(t, c.pT, 0.0004872688407731268, 1e-12, 'p');
  close(t, c.meanDifference, 0.166, 1e-12, 'mean difference');
  // d_z = mean / sd of the differences [0.16, 0.16, 0.17, 0.22, 0.12]
  close(t, c.effectSize, 0.166 / standardDeviation([0.16, 0.16, 0.17, 0.22, 0.12]), 1e-9, 'd_z');
  // All differences positive: only the identity and the all-flipped assignment are as extreme: 2 / 32.
  close(t, c.pPermutation, 2 / 32, 1e-12, 'sign-flip p');
  t.true(
    c.warnings.some((w) => /cannot go below p = 0.063/.test(w)),
    c.warnings.join('; '),
  );
  // scipy.stats.ttest_rel([0.5, 0.1, 0.3], [0.2, 0.3, 0.1]): statistic 0.6546536707079771, pvalue 0.5799159747915971
  const small = pairedComparison([0.5, 0.1, 0.3], [0.2, 0.3, 0.1]);
  close(t, small.t, 0.6546536707079771, 1e-9, 't small');
  close(t, small.pT, 0.5799159747915971, 1e-12, 'p small');
  t.true(
    small.warnings.some((w) => /needs about \d+ seeds for 80% power/.test(w)),
    small.warnings.join('; '),
  );
  t.true((small.seedsNeeded as number) > 3);
  const single = pairedComparison([0.4], [0.1]);
  t.is(single.pT, null);
  t.true(single.warnings.some((w) => /one seed/.test(w)));
  t.deepEqual(pairedComparison([], []).warnings, ['no seed has both cells']);
  t.throws(() => pairedComparison([1], [1, 2]), { instanceOf: RangeError });
});

test("sign-flip p by enumeration; seeds needed by Guenther's formula", (t) => {
  // differences [1, -2, 3]: |sum| over the 8 sign assignments: 2,4,0,6,6,0,4,2; observed 2 -> 6 of 8 are >= 2
  t.is(signFlipP([1, -2, 3]), 6 / 8);
  t.is(signFlipP([0, 0]), 1);
  // d = 0.5: ((1.95996 + 0.84162) / 0.5)^2 + 1.95996^2 / 2 = 31.40 + 1.92 = 33.3 -> 34
  t.is(seedsNeeded(0.5), 34);
  t.is(seedsNeeded(-1), Math.ceil((1.959963984540054 + 0.8416212335729143) ** 2 + 1.959963984540054 ** 2 / 2));
  t.is(seedsNeeded(0), Number.POSITIVE_INFINITY);
  // Many pairs: the Monte-Carlo branch is seeded and deterministic.
  const many = Array.from({ length: 20 }, (_, i) => (i % 3) - 0.8);
  t.is(signFlipP(many, 1), signFlipP(many, 1));
});

test('bootstrap: deterministic given a seed, and its 95% interval covers the true mean about 95% of the time', (t) => {
  const values = [0.81, 0.79, 0.84, 0.8, 0.77, 0.83];
  t.deepEqual(bootstrapInterval(values, { seed: 7 }), bootstrapInterval(values, { seed: 7 }));
  t.notDeepEqual(bootstrapInterval(values, { seed: 7 }), bootstrapInterval(values, { seed: 8 }));
  t.is(bootstrapInterval([1]), null);
  const random = seededRandom(2024);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
  const trials = 400;
  let covered = 0;
  for (let trial = 0; trial < trials; trial++) {
    const sample = Array.from({ length: 30 }, () => 5 + 2 * normal());
    const ci = bootstrapInterval(sample, { seed: trial, resamples: 1000 }) as { low: number; high: number };
    if (ci.low <= 5 && 5 <= ci.high) covered++;
  }
  // The percentile bootstrap with n = 30 covers slightly below 95%; a binomial band around 0.94 with 400 trials.
  const coverage = covered / trials;
  t.true(coverage > 0.9 && coverage < 0.975, `coverage ${coverage}`);
});

/** The bootstrap as it was written before its fast paths: every resample drawn, its statistic taken, all sorted. */
function referenceBootstrap(values: readonly number[], seed: number, resamples: number, level: number, statistic = mean) {
  const n = values.length;
  const random = seededRandom(seed);
  const stats = new Float64Array(resamples);
  const sample = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = values[Math.floor(random() * n)] as number;
    stats[r] = statistic(sample);
  }
  const sorted = Array.from(stats).sort((a, b) => a - b);
  return { low: quantile(sorted, (1 - level) / 2), high: quantile(sorted, 1 - (1 - level) / 2) };
}

test('bootstrap: the fast paths (counted resamples for few seeds, no sample arrays) give the reference interval exactly', (t) => {
  const random = seededRandom(99);
  let checked = 0;
  for (const n of [2, 3, 4, 5, 6, 9, 30]) {
    for (let trial = 0; trial < 12; trial++) {
      // Ties and repeated values included: scores on a grid of 1/872, as an accuracy on SST-2's dev set is.
      const values = Array.from({ length: n }, () => Math.round(random() * 872) / 872 - (trial % 2 ? 0.5 : 0));
      const seed = Math.floor(random() * 2 ** 32);
      for (const [resamples, level] of [
        [2000, 0.95],
        [301, 0.9],
      ] as const) {
        const expected = referenceBootstrap(values, seed, resamples, level);
        t.deepEqual(bootstrapInterval(values, { seed, resamples, level }), expected, `n=${n} trial ${trial}`);
        checked++;
      }
    }
  }
  // A statistic that is sometimes NaN (the recovery ratio below its minimum damage) keeps the comparator's order.
  const ratio = (s: readonly number[]) => (mean(s) > 0.5 ? Number.NaN : mean(s));
  const values = [0.1, 0.9, 0.3, 0.7];
  t.deepEqual(bootstrapInterval(values, { seed: 3 }, ratio), referenceBootstrap(values, 3, 2000, 0.95, ratio));
  t.is(checked, 7 * 12 * 2);
});

test('fillUniform gives the numbers seededRandom gives, in order', async (t) => {
  const { fillUniform } = await import('../../src/data/random.js');
  for (const [seed, stream] of [
    [0, 0],
    [4_000_000_000, 0],
    [17, 3],
  ] as const) {
    const random = seededRandom(seed, stream);
    t.deepEqual(
      Array.from(fillUniform(new Float64Array(5000), seed, stream)),
      Array.from({ length: 5000 }, () => random()),
    );
  }
});
