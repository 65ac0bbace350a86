/**
 * The paths a CUDA build takes that a CPU can run on libtorch 2.x (the pip-torch lane, scripts/test-lane.sh):
 * fused attention with and without dropout, fused and foreach AdamW, clipping without a host sync, bf16
 * compute; each against the plain float32 path (explicit attention, foreach AdamW, host-side clipping).
 * On libtorch 1.13 (Debian) the fallbacks are checked to be what runs. Random streams belong to a model:
 * two models in one process never disturb each other.
 */
import { join } from 'node:path';
import test from 'ava';
import { Model } from '../../src/model/model.js';
import { loadNative } from '../../src/native/binding.js';
import { fixtureBatch, fixturesDir, maxAbs, maxAbsDiff, modelFixture, readTensors } from '../helpers/fixtures.js';

const runtime = loadNative().runtimeInfo();
const atLeast = (major: number, minor: number) =>
  runtime.torchMajor > major || (runtime.torchMajor === major && runtime.torchMinor >= minor);
const on2x = atLeast(2, 0) ? test : test.skip;
const tinyBert = modelFixture('tiny-bert');
const { tensors } = readTensors(join(fixturesDir, 'parity', 'tiny-bert.transformers.safetensors'));
const batch = fixtureBatch(tensors, { tokenTypes: true, regression: false });
/** Softmax ignores a shift shared by a query's scores, so the key bias's true gradient is 0: what either path
 * computes for it is rounding noise (and Adam's normalised step of that noise), not a comparable value. */
const KEY_BIAS = /attention\.self\.key\.bias$/;

async function trainLosses(options: { seed?: number; fusedAttention?: boolean; dropout?: boolean; steps?: number }) {
  const m = await Model.load(tinyBert, { seed: options.seed ?? 1, fusedAttention: options.fusedAttention ?? true });
  await m.configureTraining({ lr: 1e-3 });
  const losses = [];
  for (let i = 0; i < (options.steps ?? 3); i++) losses.push((await m.trainStep(batch, { dropout: options.dropout ?? true })).loss);
  m.dispose();
  return losses;
}

test('which attention runs: fused where libtorch has it (2.x) unless turned off; the formula on 1.13', async (t) => {
  const fused = await Model.load(tinyBert);
  const plain = await Model.load(tinyBert, { fusedAttention: false });
  t.is(fused.engineInfo().fusedAttention, runtime.torchMajor >= 2);
  t.false(plain.engineInfo().fusedAttention);
  fused.dispose();
  plain.dispose();
});

on2x('fused attention without dropout equals the explicit formula (logits within 1e-5, gradients within 1e-5 relative)', async (t) => {
  const fused = await Model.load(tinyBert, { fusedAttention: true });
  const plain = await Model.load(tinyBert, { fusedAttention: false });
  const diff = maxAbsDiff(await fused.predict(batch), await plain.predict(batch));
  t.log(`max |logit diff| ${diff.toExponential(2)}`);
  t.true(diff <= 1e-5, `logits differ by ${diff}`);
  const [gf, gp] = [await fused.lossAndGradients(batch), await plain.lossAndGradients(batch)];
  t.true(Math.abs(gf.loss - gp.loss) <= 1e-6);
  for (const [name, g] of gp.gradients) {
    if (KEY_BIAS.test(name)) continue;
    const other = gf.gradients.get(name) as Float32Array;
    t.true(maxAbsDiff(g, other) <= 1e-5 * Math.max(1e-3, maxAbs(g)), name);
  }
  fused.dispose();
  plain.dispose();
});

test('dropout, fused attention or not: the same seed gives the same bits, another seed other losses, and it does drop', async (t) => {
  for (const fusedAttention of [true, false]) {
    const [a, b, c] = [
      await trainLosses({ fusedAttention }),
      await trainLosses({ fusedAttention }),
      await trainLosses({ fusedAttention, seed: 2 }),
    ];
    t.deepEqual(a, b, `fusedAttention ${fusedAttention}`);
    t.notDeepEqual(a, c);
    t.notDeepEqual(a, await trainLosses({ fusedAttention, dropout: false }));
  }
});

test('two models in one process do not disturb each other: interleaved training gives the bits of training alone', async (t) => {
  const alone = await trainLosses({ seed: 3 });
  const a = await Model.load(tinyBert, { seed: 3 });
  const b = await Model.load(tinyBert, { seed: 4 });
  const c = await Model.load(tinyBert, { seed: 5, fusedAttention: false });
  for (const m of [a, b, c]) await m.configureTraining({ lr: 1e-3 });
  const losses = [];
  for (let i = 0; i < 3; i++) {
    await b.trainStep(batch);
    losses.push((await a.trainStep(batch)).loss);
    await c.trainStep(batch);
  }
  t.deepEqual(losses, alone);
  for (const m of [a, b, c]) m.dispose();
});

test('training with dropout, interrupted and resumed, is bitwise equal to training straight through', async (t) => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'healbert-resume-'));
  const options = { lr: 1e-3, weightDecay: 0.01, warmupSteps: 1, totalSteps: 6 };
  const straight = await Model.load(tinyBert, { seed: 9 });
  await straight.configureTraining(options);
  for (let i = 0; i < 4; i++) await straight.trainStep(batch);
  const first = await Model.load(tinyBert, { seed: 9 });
  await first.configureTraining(options);
  for (let i = 0; i < 2; i++) await first.trainStep(batch);
  await first.save(dir);
  await first.saveTrainingState(dir, {});
  first.dispose();
  const resumed = await Model.load(dir, { seed: 9 });
  await resumed.configureTraining(options);
  await resumed.loadTrainingState(dir);
  for (let i = 0; i < 2; i++) await resumed.trainStep(batch);
  for (const p of straight.parameters()) t.deepEqual(await resumed.getParameter(p.name), await straight.getParameter(p.name), p.name);
  straight.dispose();
  resumed.dispose();
});

/** Three steps with the given training options; returns every parameter after them. */
async function paramsAfterSteps(training: Parameters<Model['configureTraining']>[0]) {
  const m = await Model.load(tinyBert);
  await m.configureTraining({ lr: 1e-3, weightDecay: 0.01, warmupSteps: 1, totalSteps: 4, ...training });
  for (let i = 0; i < 3; i++) await m.trainStep(batch, { dropout: false });
  const info = m.engineInfo();
  const out = new Map<string, Float32Array>();
  for (const p of m.parameters()) out.set(p.name, await m.getParameter(p.name));
  m.dispose();
  return { info, params: out };
}

test('AdamW on the CPU: the one-pass update (default), foreach and the fused kernel (2.4+, on request) agree within 1e-6 relative', async (t) => {
  const onePass = await paramsAfterSteps({});
  const foreach = await paramsAfterSteps({ onePass: false });
  const fused = await paramsAfterSteps({ fusedOnCpu: true });
  t.is(onePass.info.optimizer, 'one-pass');
  t.is(foreach.info.optimizer, 'foreach');
  t.is(fused.info.optimizer, atLeast(2, 4) ? 'fused' : 'one-pass');
  for (const other of [foreach, fused]) {
    for (const [name, w] of onePass.params) {
      if (KEY_BIAS.test(name)) continue;
      const theirs = other.params.get(name) as Float32Array;
      t.true(maxAbsDiff(w, theirs) <= 1e-6 * Math.max(1, maxAbs(w)), `${name}: ${maxAbsDiff(w, theirs)}`);
    }
  }
});

test('clipping without a host sync (2.1+) gives the same bits as clipping by a host-side factor', async (t) => {
  // maxGradNorm far below the gradient norm, so every step clips.
  const device = await paramsAfterSteps({ maxGradNorm: 1e-3, clipOnDevice: true, onePass: false });
  const host = await paramsAfterSteps({ maxGradNorm: 1e-3, clipOnDevice: false, onePass: false });
  t.is(device.info.clipOnDevice, atLeast(2, 1));
  t.false(host.info.clipOnDevice);
  for (const [name, w] of host.params) t.deepEqual(device.params.get(name), w, name);
});

test('bfloat16 compute with fused attention and training stays within bf16 tolerance of float32', async (t) => {
  const f32 = await Model.load(tinyBert);
  const bf16 = await Model.load(tinyBert, { dtype: 'bfloat16' });
  const diff = maxAbsDiff(await f32.predict(batch), await bf16.predict(batch));
  t.log(`bf16 vs fp32: max |logit diff| ${diff.toExponential(2)}, fused attention ${bf16.engineInfo().fusedAttention}`);
  t.true(diff <= 0.05, `logits differ by ${diff}`);
  await bf16.configureTraining({ lr: 1e-3 });
  const r = await bf16.trainStep(batch);
  t.true(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm));
  f32.dispose();
  bf16.dispose();
});
