/**
 * predictLayersMembers: every layer's pooled representations from the evaluation pass that gives the logits
 * (native/engine/layer_states.h). The pass must give exactly predict()'s logits and first-token states, and a
 * row's representations must not depend on the padding of the batch it sits in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Batch } from '../../src/batch.js';
import { corrupt } from '../../src/corruption/corrupt.js';
import { Model } from '../../src/model/model.js';
import { fixturesDir, maxAbsDiff, modelFixture } from '../helpers/fixtures.js';
import { batch } from '../helpers/fleet.js';

/** Row r of a padded batch, alone and unpadded. */
function row(b: Batch, r: number): Batch {
  const t = b.seqLen;
  const mask = (b.attentionMask as Uint8Array).subarray(r * t, (r + 1) * t);
  const n = mask.reduce((s, v) => s + v, 0);
  return {
    batchSize: 1,
    seqLen: n,
    inputIds: b.inputIds.slice(r * t, r * t + n),
    attentionMask: new Uint8Array(n).fill(1),
    ...(b.tokenTypeIds ? { tokenTypeIds: b.tokenTypeIds.slice(r * t, r * t + n) } : {}),
  };
}

/** Layer l, pooling p (0 mean, 1 first token), row r of one member's (L + 1, 2, B, H) block. */
const pooled = (layers: Float32Array, l: number, p: number, r: number, rows: number, h: number) =>
  layers.subarray(((l * 2 + p) * rows + r) * h, ((l * 2 + p) * rows + r + 1) * h);

for (const name of ['tiny-bert', 'tiny-roberta', 'tiny-distilbert']) {
  test(`${name}: the layers pass gives predict's logits and first-token states, and rows as they are alone`, async (t) => {
    const model = await Model.load(modelFixture(name), { seed: 3 });
    try {
      const pad = name === 'tiny-roberta' ? 1 : 0;
      const b = batch(pad, 0, 'class', name === 'tiny-bert');
      const { logits, layers } = await model.predictLayersMembers(b);
      const h = model.config.hiddenSize;
      const depth = model.config.numLayers + 1;
      t.is((layers[0] as Float32Array).length, depth * 2 * b.batchSize * h);
      t.deepEqual(Array.from(logits[0] as Float32Array), Array.from(await model.predict(b)));
      const cls = await model.predict(b, { output: 'cls' });
      for (let r = 0; r < b.batchSize; r++)
        t.deepEqual(
          Array.from(pooled(layers[0] as Float32Array, depth - 1, 1, r, b.batchSize, h)),
          Array.from(cls.subarray(r * h, (r + 1) * h)),
          `row ${r}: the last layer's first token is predict's cls`,
        );
      for (let r = 0; r < b.batchSize; r++) {
        const alone = (await model.predictLayersMembers(row(b, r))).layers[0] as Float32Array;
        for (let l = 0; l < depth; l++)
          for (const p of [0, 1]) {
            const diff = maxAbsDiff(pooled(layers[0] as Float32Array, l, p, r, b.batchSize, h), pooled(alone, l, p, 0, 1, h));
            t.true(diff <= 1e-5, `row ${r} layer ${l - 1} pooling ${p}: padded and alone differ by ${diff}`);
          }
      }
      // The mean over tokens is not the first token: the two poolings are different views.
      t.true(
        maxAbsDiff(pooled(layers[0] as Float32Array, depth - 1, 0, 0, 3, h), pooled(layers[0] as Float32Array, depth - 1, 1, 0, 3, h)) >
          1e-3,
      );
    } finally {
      model.dispose();
    }
  });
}

test('a fleet member gets the layers a solo model with its weights gets', async (t) => {
  const fleet = await Model.load(modelFixture('tiny-bert'), { seed: 3, members: 2 });
  const solo = await Model.load(modelFixture('tiny-bert'), { seed: 3 });
  try {
    const spec = { method: 'gaussian' as const, level: 0.3, targets: { layers: 1 } };
    await corrupt(fleet, spec, { seed: 5, member: 1 });
    await corrupt(solo, spec, { seed: 5 });
    const b = batch(0, 1, 'class', true);
    const members = (await fleet.predictLayersMembers(b)).layers;
    const alone = (await solo.predictLayersMembers(b)).layers[0] as Float32Array;
    const diff = maxAbsDiff(members[1] as Float32Array, alone);
    t.true(diff <= 1e-5, `member 1 and the solo model differ by ${diff}`);
    t.true(maxAbsDiff(members[0] as Float32Array, alone) > 1e-3, 'the uncorrupted member differs');
  } finally {
    fleet.dispose();
    solo.dispose();
  }
});

test('the mean over real tokens leaves the padding out with and without packing', async (t) => {
  const [packed, padded] = await Promise.all(
    [true, false].map((packPadding) => Model.load(modelFixture('tiny-bert'), { seed: 3, packPadding })),
  );
  try {
    const b = batch(0, 2, 'class', true);
    const a = (await (packed as Model).predictLayersMembers(b)).layers[0] as Float32Array;
    const c = (await (padded as Model).predictLayersMembers(b)).layers[0] as Float32Array;
    const diff = maxAbsDiff(a, c);
    t.true(diff <= 1e-5, `packed and padded layers differ by ${diff}`);
  } finally {
    packed?.dispose();
    padded?.dispose();
  }
});

/** LayerNorm without a bias over each row of width h (ModernBERT's final_norm: norm_bias false). */
function layerNorm(x: Float32Array, weight: Float32Array, eps: number): Float32Array {
  const h = weight.length;
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / h; r++) {
    const row = x.subarray(r * h, (r + 1) * h);
    const mean = row.reduce((s, v) => s + v, 0) / h;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / h;
    for (let i = 0; i < h; i++) out[r * h + i] = (((row[i] as number) - mean) / Math.sqrt(variance + eps)) * (weight[i] as number);
  }
  return out;
}

// DeBERTa's relative and ModernBERT's rotary layers (rows of 9 tokens beyond ModernBERT's window of |i - j| <= 4):
// each layer's output as transformers' hidden_states hold it. ModernBERT's final norm is the output's, not its
// last layer's: the last layer's first token, normalised by it, is predict's cls.
for (const name of ['deberta-v3-tiny', 'modernbert-tiny', 'modernbert-tiny-mean']) {
  test(`${name}: the layers pass gives predict's logits, one state per layer before any final norm, and rows as they are alone`, async (t) => {
    const raw = JSON.parse(readFileSync(join(fixturesDir, 'configs', `${name}.json`), 'utf8'));
    const model = await Model.fromConfig(raw, { seed: 3 });
    try {
      const b = batch(0, 0, 'class', false);
      const { logits, layers } = await model.predictLayersMembers(b);
      const h = model.config.hiddenSize;
      const depth = model.config.numLayers + 1;
      t.is((layers[0] as Float32Array).length, depth * 2 * b.batchSize * h);
      t.deepEqual(Array.from(logits[0] as Float32Array), Array.from(await model.predict(b)));
      const cls = await model.predict(b, { output: 'cls' });
      const finalNorm = model.parameters().find((p) => p.role === 'encoder.final_norm.weight');
      t.is(finalNorm !== undefined, name.startsWith('modernbert'));
      for (let r = 0; r < b.batchSize; r++) {
        const last = pooled(layers[0] as Float32Array, depth - 1, 1, r, b.batchSize, h);
        const own = cls.subarray(r * h, (r + 1) * h);
        if (!finalNorm) {
          t.deepEqual(Array.from(last), Array.from(own), `row ${r}: the last layer's first token is predict's cls`);
          continue;
        }
        t.true(maxAbsDiff(last, own) > 1e-2, `row ${r}: the last layer's state is not the final norm's`);
        const normed = layerNorm(last, await model.getParameter(finalNorm.name), raw.norm_eps);
        const diff = maxAbsDiff(normed, own);
        t.true(diff <= 1e-5, `row ${r}: final_norm(last layer's first token) and predict's cls differ by ${diff}`);
      }
      for (let r = 0; r < b.batchSize; r++) {
        const alone = (await model.predictLayersMembers(row(b, r))).layers[0] as Float32Array;
        for (let l = 0; l < depth; l++)
          for (const p of [0, 1]) {
            const diff = maxAbsDiff(pooled(layers[0] as Float32Array, l, p, r, b.batchSize, h), pooled(alone, l, p, 0, 1, h));
            t.true(diff <= 1e-5, `row ${r} layer ${l - 1} pooling ${p}: padded and alone differ by ${diff}`);
          }
      }
    } finally {
      model.dispose();
    }
  });
}
