/**
 * healbert's CKA against a direct numpy computation (test/python/cka_reference.py), in the pip-torch lane
 * (HEALBERT_PYTHON set by scripts/test-lane.sh cpu); skipped elsewhere with one line.
 */
import { seededRandom } from '../../src/data/random.js';
import { cka } from '../../src/measure/cka.js';
import { noteWhenSkipped, runPython, transformersTest } from '../helpers/python.js';

noteWhenSkipped('CKA against numpy');

/** n x d values: uniform, shifted and with columns of different scales (not centred: the reference does not centre). */
function features(n: number, d: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, (_, k) => (random() - 0.3) * (1 + k) + 2));
}

transformersTest('linear and debiased CKA equal numpy to 1e-10', (t) => {
  const x = features(64, 24, 1);
  // Related (a noisy function of x), unrelated, wider than n, and a float32 round trip as the engine hands over.
  const related = x.map((row, i) => row.slice(0, 10).map((v, k) => v * (k + 1) - (row[k + 10] as number) + Math.sin(i + k)));
  const unrelated = features(64, 16, 2);
  const wide = features(64, 100, 3);
  const f32 = x.map((row) => Array.from(Float32Array.from(row)));
  const pairs = [
    [x, related],
    [x, unrelated],
    [x, wide],
    [x, f32],
  ] as const;
  const reference = JSON.parse(
    runPython('cka_reference.py', [], { input: JSON.stringify({ pairs: pairs.map(([a, b]) => ({ x: a, y: b })) }) }),
  ) as {
    linear: number[];
    debiased: number[];
  };
  const flat = (m: readonly number[][]) => Float64Array.from(m.flat());
  for (const [i, [a, b]] of pairs.entries()) {
    const n = a.length;
    for (const estimator of ['linear', 'debiased'] as const) {
      const ours = cka(flat(a), flat(b), n, (a[0] as number[]).length, (b[0] as number[]).length, estimator);
      const theirs = (reference[estimator] as number[])[i] as number;
      t.true(
        Math.abs(ours - theirs) < 1e-10,
        `pair ${i} ${estimator}: healbert ${ours}, numpy ${theirs}, difference ${Math.abs(ours - theirs)}`,
      );
    }
  }
});
