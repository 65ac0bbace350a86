/**
 * Packed padding (LoadOptions.packPadding, on by default): the per-token layers of a padded batch run on its
 * real tokens only. The results must be the padded computation's up to summation order, for every
 * architecture and head, with dropout too (a real token gets the dropout mask it gets unpacked).
 */
import test from 'ava';
import type { Batch } from '../../src/batch.js';
import { Model } from '../../src/model/model.js';
import { isKeyBias, maxAbs, maxAbsDiff, modelFixture } from '../helpers/fixtures.js';
import { batch } from '../helpers/fleet.js';

/** Three rows of lengths 9, 4 and 6 in a batch of 9 positions (the rest padding). */
const paddedBatch = (pad: number, options: { mlm?: boolean; tokenTypes?: boolean } = {}): Batch =>
  batch(pad, 0, options.mlm ? 'mlm' : 'class', options.tokenTypes === true);

const CASES = [
  { name: 'tiny-bert', pad: 0, tokenTypes: true },
  { name: 'tiny-roberta', pad: 1, tokenTypes: false },
  { name: 'tiny-distilbert', pad: 0, tokenTypes: false },
  { name: 'tiny-bert-mlm', pad: 0, tokenTypes: true, mlm: true },
];

for (const c of CASES) {
  test(`${c.name}: packed and padded give the same outputs, loss and gradients, with and without dropout`, async (t) => {
    const [packed, padded] = await Promise.all(
      [true, false].map((packPadding) => Model.load(modelFixture(c.name), { packPadding, mlmHead: c.mlm === true, seed: 11 })),
    );
    try {
      t.true((packed as Model).engineInfo().packPadding);
      t.false((padded as Model).engineInfo().packPadding);
      const batch = paddedBatch(c.pad, c);
      const [p, q] = [packed as Model, padded as Model];
      if (!c.mlm) {
        const diff = maxAbsDiff(await p.predict(batch), await q.predict(batch));
        t.true(diff <= 1e-5, `logits differ by ${diff}`);
        const cls = maxAbsDiff(await p.predict(batch, { output: 'cls' }), await q.predict(batch, { output: 'cls' }));
        t.true(cls <= 1e-5, `first-token states differ by ${cls}`);
      } else {
        const diff = maxAbsDiff(await p.predict(batch, { output: 'mlm' }), await q.predict(batch, { output: 'mlm' }));
        t.true(diff <= 1e-4, `MLM logits differ by ${diff}`);
      }
      for (const dropout of [false, true]) {
        const [a, b] = [await p.lossAndGradients(batch, { dropout }), await q.lossAndGradients(batch, { dropout })];
        t.true(Math.abs(a.loss - b.loss) <= 1e-5 * Math.max(1, Math.abs(b.loss)), `dropout ${dropout}: loss ${a.loss} vs ${b.loss}`);
        let worst = 0;
        let worstName = '';
        // Key biases' true gradient is 0 (softmax is shift-invariant): theirs is round-off, compared with the
        // gradients' overall scale instead (isKeyBias).
        const overall = Math.max(...[...b.gradients.values()].map(maxAbs));
        for (const [name, g] of b.gradients) {
          const scale = isKeyBias(name) ? overall : Math.max(maxAbs(g), 1e-6);
          const d = maxAbsDiff(a.gradients.get(name) as Float32Array, g) / scale;
          if (d > worst) [worst, worstName] = [d, name];
        }
        t.log(
          `dropout ${dropout}: loss ${a.loss.toFixed(6)} vs ${b.loss.toFixed(6)}, worst gradient ${worst.toExponential(2)} (${worstName})`,
        );
        t.true(worst <= 1e-3, `dropout ${dropout}: worst relative gradient difference ${worst} (${worstName})`);
      }
    } finally {
      packed?.dispose();
      padded?.dispose();
    }
  });
}

test('a padded row gives what it gives alone, unpadded', async (t) => {
  const model = await Model.load(modelFixture('tiny-bert'));
  try {
    const batch = paddedBatch(0, { tokenTypes: true });
    const together = await model.predict(batch);
    const lengths = [9, 4, 6];
    for (const [r, n] of lengths.entries()) {
      const slice = (a: ArrayLike<number>) => Array.from(a).slice(r * batch.seqLen, r * batch.seqLen + n);
      const alone = await model.predict({
        batchSize: 1,
        seqLen: n,
        inputIds: Int32Array.from(slice(batch.inputIds)),
        tokenTypeIds: Int32Array.from(slice(batch.tokenTypeIds as Int32Array)),
      });
      const diff = maxAbsDiff(alone, together.subarray(r * alone.length, (r + 1) * alone.length));
      t.true(diff <= 1e-5, `row ${r}: ${diff}`);
    }
  } finally {
    model.dispose();
  }
});
