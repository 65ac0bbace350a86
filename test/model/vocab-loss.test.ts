/**
 * The MLM loss of a solo model on the CPU goes through the vocabulary in row chunks without its (N, V)
 * logits (native/engine/vocab_loss.h); a fleet takes the plain path (logits, cross-entropy, autograd). With a
 * full-size vocabulary and a batch of several chunks, both must give the same loss, gradients, evaluation
 * and training, in float32 and bf16.
 */
import test from 'ava';
import type { Batch } from '../../src/batch.js';
import { Model } from '../../src/model/model.js';
import { maxAbs, maxAbsDiff } from '../helpers/fixtures.js';

const raw = {
  model_type: 'bert',
  architectures: ['BertForMaskedLM'],
  vocab_size: 30522,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  max_position_embeddings: 64,
  type_vocab_size: 2,
};

// 16 x 64 tokens, 40% of them labelled: about 400 rows, three chunks of 137 at this vocabulary.
function batch(seed: number): Batch {
  let s = seed;
  const random = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const [b, t] = [16, 64];
  const inputIds = new Int32Array(b * t);
  const attentionMask = new Uint8Array(b * t).fill(1);
  const mlmLabels = new Int32Array(b * t).fill(-100);
  for (let i = 0; i < b * t; i++) {
    inputIds[i] = 1000 + Math.floor(random() * 29000);
    if (random() < 0.4) {
      mlmLabels[i] = inputIds[i] as number;
      inputIds[i] = 103;
    }
  }
  return { batchSize: b, seqLen: t, inputIds, attentionMask, mlmLabels };
}

for (const dtype of ['float32', 'bfloat16'] as const) {
  // bf16: the chunks add the decoder's gradient in float32 where the plain path's product rounds once.
  const tolerance = dtype === 'float32' ? 2e-5 : 2e-2;
  test(`${dtype}: the chunked vocabulary loss gives the plain path's loss, gradients, evaluation and training`, async (t) => {
    const solo = await Model.fromConfig(raw, { mlmHead: true, seed: 4, dtype });
    const fleet = await Model.fromConfig(raw, { mlmHead: true, seed: 4, dtype, members: 2 });
    const b = batch(7);
    const labelled = (b.mlmLabels as Int32Array).filter((x) => x !== -100).length;
    t.true(labelled > 2 * 137, `${labelled} labelled rows span several chunks`);

    const [a, p] = [await solo.lossAndGradients(b), await fleet.lossAndGradients(b, { member: 1 })];
    t.true(Math.abs(a.loss - p.loss) < 1e-4 * Math.abs(p.loss), `loss ${a.loss} vs ${p.loss}`);
    for (const [name, g] of p.gradients) {
      const mine = a.gradients.get(name) as Float32Array;
      t.true(maxAbsDiff(mine, g) <= tolerance * Math.max(maxAbs(g), 1e-6), `${name}: ${maxAbsDiff(mine, g)} of ${maxAbs(g)}`);
    }

    const [ea, ep] = [await solo.evaluateMlm(b), await fleet.evaluateMlm(b)];
    t.is(ea.count, labelled);
    t.true(Math.abs(ea.lossSum - (ep.lossSums[1] as number)) < 1e-4 * ea.lossSum, `${ea.lossSum} vs ${ep.lossSums[1]}`);
    t.true(Math.abs(ea.correct - (ep.corrects[1] as number)) <= 1);

    for (const m of [solo, fleet])
      await m.configureTraining({ lr: 1e-3, warmupSteps: 0, totalSteps: 3, weightDecay: 0.01, maxGradNorm: 1 });
    for (let step = 0; step < 3; step++) {
      const [ra, rp] = [
        await solo.trainStep(batch(20 + step), { dropout: false }),
        await fleet.trainStep(batch(20 + step), { dropout: false }),
      ];
      t.true(Math.abs(ra.loss - rp.loss) < 1e-3 * rp.loss, `step ${step}: ${ra.loss} vs ${rp.loss}`);
    }
    const word = 'bert.embeddings.word_embeddings.weight';
    const [wa, wp] = [await solo.getParameter(word), await fleet.getParameter(word, { member: 1 })];
    t.true(maxAbsDiff(wa, wp) < 3 * 3e-3, `word embeddings after 3 steps: ${maxAbsDiff(wa, wp)}`);
    solo.dispose();
    fleet.dispose();
  });
}

test('with the word embeddings (the tied decoder) and the MLM bias frozen, the chunked loss trains as the plain path and leaves them alone', async (t) => {
  const solo = await Model.fromConfig(raw, { mlmHead: true, seed: 4 });
  const fleet = await Model.fromConfig(raw, { mlmHead: true, seed: 4, members: 2 });
  const frozen = new Set(['bert.embeddings.word_embeddings.weight', 'cls.predictions.bias']);
  t.true(
    [...frozen].every((name) => solo.parameters().some((p) => p.name === name)),
    'both are parameters of the model',
  );
  const before = await Promise.all([...frozen].map((name) => solo.getParameter(name)));
  for (const m of [solo, fleet])
    await m.configureTraining({
      lr: 1e-3,
      warmupSteps: 0,
      totalSteps: 3,
      weightDecay: 0.01,
      maxGradNorm: 1,
      trainable: (p) => !frozen.has(p.name),
    });
  for (let step = 0; step < 3; step++) {
    const [ra, rp] = [
      await solo.trainStep(batch(20 + step), { dropout: false }),
      await fleet.trainStep(batch(20 + step), { dropout: false }),
    ];
    t.true(Math.abs(ra.loss - rp.loss) < 1e-4 * rp.loss, `step ${step}: ${ra.loss} vs ${rp.loss}`);
  }
  for (const [i, name] of [...frozen].entries()) t.deepEqual(await solo.getParameter(name), before[i], `${name} did not move`);
  const dense = 'bert.encoder.layer.0.attention.self.query.weight';
  const [wa, wp] = [await solo.getParameter(dense), await fleet.getParameter(dense, { member: 1 })];
  t.true(maxAbsDiff(wa, wp) < 1e-5, `${dense} after 3 steps: ${maxAbsDiff(wa, wp)}`);
  solo.dispose();
  fleet.dispose();
});
