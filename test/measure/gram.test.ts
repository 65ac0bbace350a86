/** The engine's centred Gram matrix (float64 through libtorch) gives the CKA of cka.ts's own loop. */
import test from 'ava';
import { seededRandom } from '../../src/data/random.js';
import { ckaFromStats, gramStats, statsFromCentredGram } from '../../src/measure/cka.js';
import { loadNative } from '../../src/native/binding.js';

const features = (n: number, d: number, seed: number) => {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n * d }, (_, i) => random() * (1 + (i % d)) + 3);
};

test('centredGram: the same CKA as the JavaScript Gram, both estimators; shapes checked with ERR_SHAPE', async (t) => {
  const native = loadNative();
  const [n, dx, dy] = [50, 40, 24];
  const x = features(n, dx, 1);
  const y = features(n, dy, 2).map((v, i) => v + 0.5 * (x[Math.floor(i / dy) * dx + (i % dy)] as number));
  for (const estimator of ['linear', 'debiased'] as const) {
    const js = ckaFromStats(gramStats(x, n, dx, estimator), gramStats(y, n, dy, estimator));
    const engine = ckaFromStats(
      statsFromCentredGram(await native.centredGram(x, n, dx), n, estimator),
      statsFromCentredGram(await native.centredGram(y, n, dy), n, estimator),
    );
    t.true(Math.abs(js - engine) < 1e-12, `${estimator}: ${js} vs ${engine}`);
    t.true(js > 0.05 && js < 0.99, `${estimator}: ${js}`);
  }
  t.throws(() => native.centredGram(x, n, dx + 1), { code: 'ERR_SHAPE' });
  t.throws(() => native.centredGram(Float64Array.from(x) as unknown as Float32Array, n, dx), { code: 'ERR_ARGUMENT' });
});
