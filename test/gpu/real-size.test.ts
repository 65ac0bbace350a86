/**
 * GPU lane (HEALBERT_TEST_GPU=1, run by scripts/gpu-check.sh): base-size BERT, RoBERTa and DistilBERT models
 * on CUDA against transformers' outputs (generate_real_size.py, in HEALBERT_REAL_SIZE_DIR/<family>), in
 * float32 and in bfloat16 mixed precision; CUDA training agrees with the CPU; corruption on CUDA keeps its
 * invariants.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { corrupt } from '../../src/corruption/corrupt.js';
import { Model } from '../../src/model/model.js';
import { fixtureBatch, fixturesDir, maxAbs, maxAbsDiff, modelFixture, readTensors } from '../helpers/fixtures.js';
import { gpuTest } from '../helpers/gpu.js';

const realDir = process.env.HEALBERT_REAL_SIZE_DIR ?? '';
const FAMILIES = ['bert', 'roberta', 'distilbert'] as const;
const realTest = (family: string) => (realDir && existsSync(join(realDir, family, 'expected.json')) ? gpuTest : test.skip);

interface Expected {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
  labels: number[];
  float32: { logits: number[][]; loss: number };
  bfloat16: { logits: number[][]; loss: number };
}

/** Tolerances: float32 as on the CPU fixtures (1e-4 absolute on logits); bfloat16 has an 8-bit mantissa,
 * so two implementations that round at different points differ by a few bf16 ulps after 12 layers. */
const TOLERANCE = { float32: 1e-4, bfloat16: 0.08 };

for (const family of FAMILIES)
  for (const dtype of ['float32', 'bfloat16'] as const) {
    realTest(family)(`${family}-base size on CUDA, ${dtype}: logits and loss match transformers`, async (t) => {
      const e = JSON.parse(readFileSync(join(realDir, family, 'expected.json'), 'utf8')) as Expected;
      const [b, len] = [e.input_ids.length, (e.input_ids[0] as number[]).length];
      const model = await Model.load(join(realDir, family, 'model'), { device: 'cuda', dtype });
      const batch = {
        batchSize: b,
        seqLen: len,
        inputIds: Int32Array.from(e.input_ids.flat()),
        attentionMask: Uint8Array.from(e.attention_mask.flat()),
        tokenTypeIds: Int32Array.from(e.token_type_ids.flat()),
        labels: Int32Array.from(e.labels),
      };
      const diff = maxAbsDiff(await model.predict(batch), e[dtype].logits.flat());
      const { loss } = await model.lossAndGradients(batch);
      t.log(
        `${family} ${dtype}: max |logit diff| ${diff.toExponential(2)} (scale ${maxAbs(e[dtype].logits.flat()).toFixed(3)}), loss ${loss} vs ${e[dtype].loss}`,
      );
      t.true(diff <= TOLERANCE[dtype], `logits differ by ${diff}`);
      t.true(Math.abs(loss - e[dtype].loss) <= TOLERANCE[dtype] * 2, `loss ${loss} vs ${e[dtype].loss}`);
      model.dispose();
    });
  }

gpuTest('CUDA float32 training steps agree with the CPU', async (t) => {
  const { tensors } = readTensors(join(fixturesDir, 'parity', 'tiny-bert.transformers.safetensors'));
  const batch = fixtureBatch(tensors, { tokenTypes: true, regression: false });
  const results = [];
  for (const device of ['cpu', 'cuda']) {
    const m = await Model.load(modelFixture('tiny-bert'), { device });
    await m.configureTraining({ lr: 1e-3, weightDecay: 0.01, warmupSteps: 1, totalSteps: 4 });
    const losses = [];
    for (let i = 0; i < 3; i++) losses.push((await m.trainStep(batch, { dropout: false })).loss);
    results.push({ losses, w: await m.getParameter('bert.encoder.layer.1.output.dense.weight') });
    m.dispose();
  }
  const [cpu, cuda] = results as [{ losses: number[]; w: Float32Array }, { losses: number[]; w: Float32Array }];
  for (let i = 0; i < 3; i++) t.true(Math.abs((cpu.losses[i] as number) - (cuda.losses[i] as number)) < 1e-4, `step ${i}`);
  t.true(maxAbsDiff(cpu.w, cuda.w) / maxAbs(cpu.w) < 1e-4);
});

gpuTest('CUDA dropout and corruption are reproducible from the seed', async (t) => {
  const { tensors } = readTensors(join(fixturesDir, 'parity', 'tiny-bert.transformers.safetensors'));
  const batch = fixtureBatch(tensors, { tokenTypes: true, regression: false });
  const run = async () => {
    const m = await Model.load(modelFixture('tiny-bert'), { device: 'cuda', seed: 5 });
    await corrupt(m, { method: 'gaussian', level: 0.1, fraction: 0.5, targets: { layers: 'all' } }, { seed: 2 });
    await m.configureTraining({ lr: 1e-3 });
    const losses = [];
    for (let i = 0; i < 3; i++) losses.push((await m.trainStep(batch)).loss);
    m.dispose();
    return losses;
  };
  t.deepEqual(await run(), await run());
});
