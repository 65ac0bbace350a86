import test from 'ava';
import { seededRandom } from '../../src/data/random.js';
import { cka, gramStats } from '../../src/measure/cka.js';

/** n x d standard normal entries (Box-Muller), row-major. */
function normal(n: number, d: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return out;
}

/** A random d x d orthogonal matrix: Gram-Schmidt on normal columns. */
function orthogonal(d: number, seed: number): Float64Array {
  const q = normal(d, d, seed);
  for (let j = 0; j < d; j++) {
    for (let p = 0; p < j; p++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += (q[i * d + j] as number) * (q[i * d + p] as number);
      for (let i = 0; i < d; i++) q[i * d + j] = (q[i * d + j] as number) - s * (q[i * d + p] as number);
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += (q[i * d + j] as number) ** 2;
    for (let i = 0; i < d; i++) q[i * d + j] = (q[i * d + j] as number) / Math.sqrt(norm);
  }
  return q;
}

function matmul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++)
      for (let j = 0; j < m; j++) out[i * m + j] = (out[i * m + j] as number) + (a[i * k + p] as number) * (b[p * m + j] as number);
  return out;
}

const n = 40;
const d = 12;
const x = normal(n, d, 1);
// Y depends on X (a random linear map of it plus noise), so CKA is neither 0 nor 1.
const y = (() => {
  const mixed = matmul(x, normal(d, 7, 2), n, d, 7);
  const noise = normal(n, 7, 3);
  return mixed.map((v, i) => v + 2 * (noise[i] as number));
})();

for (const estimator of ['linear', 'debiased'] as const) {
  test(`${estimator} CKA is 1 for identical inputs and symmetric`, (t) => {
    t.true(Math.abs(cka(x, x, n, d, d, estimator) - 1) < 1e-12);
    const xy = cka(x, y, n, d, 7, estimator);
    t.true(Math.abs(xy - cka(y, x, n, 7, d, estimator)) < 1e-12);
    t.true(xy > 0.05 && xy < 0.95, `CKA of dependent sets: ${xy}`);
  });

  test(`${estimator} CKA does not change under orthogonal transforms, isotropic scaling and translation`, (t) => {
    const base = cka(x, y, n, d, 7, estimator);
    const rotated = matmul(x, orthogonal(d, 9), n, d, d);
    const scaled = y.map((v) => -3.7 * v);
    const shifted = x.map((v, i) => v + 5 + (i % d)); // a different constant per column
    for (const [what, value] of [
      ['orthogonal', cka(rotated, y, n, d, 7, estimator)],
      ['scaling', cka(x, scaled, n, d, 7, estimator)],
      ['translation', cka(shifted, y, n, d, 7, estimator)],
    ] as const)
      t.true(Math.abs(value - base) < 1e-10, `${what}: ${value} vs ${base}`);
  });

  test(`${estimator} CKA changes under a non-isotropic scaling`, (t) => {
    // The invariances above are not vacuous: stretching one feature changes the value.
    const stretched = x.map((v, i) => (i % d === 0 ? 30 * v : v));
    t.true(Math.abs(cka(stretched, y, n, d, 7, estimator) - cka(x, y, n, d, 7, estimator)) > 1e-3);
  });
}

test('the debiased estimator is near 0 for independent wide representations, the biased one is not', (t) => {
  // Kornblith et al.'s observation: with n examples and width >> n, biased CKA of independent noise is large.
  const a = normal(30, 400, 11);
  const b = normal(30, 400, 12);
  const biased = cka(a, b, 30, 400, 400, 'linear');
  const debiased = cka(a, b, 30, 400, 400, 'debiased');
  t.true(biased > 0.5, `biased ${biased}`);
  t.true(Math.abs(debiased) < 0.1, `debiased ${debiased}`);
});

test('a constant representation has no CKA, and bad shapes are refused with ERR_ARGUMENT', (t) => {
  t.true(Number.isNaN(cka(new Float64Array(n * d).fill(2), y, n, d, 7)));
  t.throws(() => gramStats(new Float64Array(5), 2, 3), { code: 'ERR_ARGUMENT' });
  t.throws(() => gramStats(new Float64Array(9), 3, 3, 'debiased'), { code: 'ERR_ARGUMENT' });
});
