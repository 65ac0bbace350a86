import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Batch } from '../../src/batch.js';
import { Model } from '../../src/model/model.js';
import { loadNative } from '../../src/native/binding.js';
import { tempDir } from '../helpers/checkpoints.js';
import { fixtureBatch, fixturesDir, isKeyBias, maxAbs, maxAbsDiff, modelFixture, readTensors } from '../helpers/fixtures.js';

const tinyBert = modelFixture('tiny-bert');
const { tensors } = readTensors(join(fixturesDir, 'parity', 'tiny-bert.transformers.safetensors'));
const batch = fixtureBatch(tensors, { tokenTypes: true, regression: false });

/** Rows [from, to) of a batch. */
function rows(b: Batch, from: number, to: number): Batch {
  const t = b.seqLen;
  return {
    batchSize: to - from,
    seqLen: t,
    inputIds: b.inputIds.slice(from * t, to * t),
    ...(b.attentionMask ? { attentionMask: b.attentionMask.slice(from * t, to * t) } : {}),
    ...(b.tokenTypeIds ? { tokenTypeIds: b.tokenTypeIds.slice(from * t, to * t) } : {}),
    ...(b.labels ? { labels: b.labels.slice(from, to) } : {}),
  };
}

/** A 4-row batch: the fixture's 3 rows plus its first row again. */
function fourRows(): Batch {
  const t = batch.seqLen;
  const cat = <T extends Int32Array | Uint8Array>(a: T, n: number): T => {
    const out = new (a.constructor as new (n: number) => T)(a.length + n);
    out.set(a);
    out.set(a.subarray(0, n), a.length);
    return out;
  };
  return {
    batchSize: 4,
    seqLen: t,
    inputIds: cat(batch.inputIds, t),
    attentionMask: cat(batch.attentionMask as Uint8Array, t),
    tokenTypeIds: cat(batch.tokenTypeIds as Int32Array, t),
    labels: cat(batch.labels as Int32Array, 1),
  };
}

async function allParameters(m: Model): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const p of m.parameters()) out.set(p.name, await m.getParameter(p.name));
  return out;
}

test('save then load gives bitwise identical parameters and a folder transformers can read', async (t) => {
  const m = await Model.load(tinyBert);
  await m.configureTraining({ lr: 1e-3 });
  await m.trainStep(batch);
  const dir = join(tempDir(), 'saved');
  await m.save(dir, { labels: ['neg', 'neutral', 'pos'] });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  t.deepEqual(config.architectures, ['BertForSequenceClassification']);
  t.deepEqual(config.id2label, { 0: 'neg', 1: 'neutral', 2: 'pos' });
  t.is(config.problem_type, 'single_label_classification');
  t.false(existsSync(join(dir, `model.safetensors.tmp-${process.pid}`)));
  const back = await Model.load(dir);
  t.deepEqual(back.loadReport?.initialised, []);
  const [a, b] = [await allParameters(m), await allParameters(back)];
  for (const [name, values] of a) t.deepEqual(b.get(name), values, name);
  t.deepEqual(await back.predict(batch), await m.predict(batch));
  m.dispose();
  back.dispose();
});

test('gradient accumulation over two half batches equals one step on the whole batch', async (t) => {
  const four = fourRows();
  const whole = await Model.load(tinyBert);
  const halves = await Model.load(tinyBert);
  for (const m of [whole, halves]) await m.configureTraining({ lr: 1e-3, weightDecay: 0.01 });
  const r1 = await whole.trainStep(four, { dropout: false });
  const r2 = await halves.trainStep([rows(four, 0, 2), rows(four, 2, 4)], { dropout: false });
  t.true(Math.abs(r1.loss - r2.loss) < 1e-6, `loss ${r1.loss} vs ${r2.loss}`);
  t.true(Math.abs(r1.gradNorm - r2.gradNorm) < 1e-5 * r1.gradNorm, `grad norm ${r1.gradNorm} vs ${r2.gradNorm}`);
  const [a, b] = [await allParameters(whole), await allParameters(halves)];
  for (const [name, values] of a) {
    if (isKeyBias(name)) continue; // zero gradient analytically: Adam turns its round-off into noise
    const diff = maxAbsDiff(values, b.get(name) as Float32Array);
    t.true(diff <= 1e-6 * Math.max(1, maxAbs(values)), `${name}: ${diff}`);
  }
  whole.dispose();
  halves.dispose();
});

test('dropout is reproducible from the seed, and differs between seeds', async (t) => {
  const losses = async (seed: number) => {
    const m = await Model.load(tinyBert, { seed });
    await m.configureTraining({ lr: 1e-3 });
    const out = [];
    for (let i = 0; i < 3; i++) out.push((await m.trainStep(batch)).loss);
    m.dispose();
    return out;
  };
  const [a, b, c] = [await losses(1), await losses(1), await losses(2)];
  t.deepEqual(a, b);
  t.notDeepEqual(a, c);
});

test('training on a batch drives its loss down, and the schedule decays the rate to zero', async (t) => {
  const m = await Model.load(tinyBert);
  await m.configureTraining({ lr: 3e-3, warmupSteps: 2, totalSteps: 20 });
  const results = [];
  for (let i = 0; i < 20; i++) results.push(await m.trainStep(batch, { dropout: false }));
  t.is(results[0]?.lr, 0);
  t.is(results[1]?.lr, 1.5e-3);
  t.is(results[2]?.lr, 3e-3);
  t.true(Math.abs((results[19]?.lr ?? 1) - 3e-3 / 18) < 1e-12);
  t.true((results[19]?.loss ?? 1) < 0.2 * (results[0]?.loss ?? 0), `loss ${results[0]?.loss} -> ${results[19]?.loss}`);
  t.is(results[19]?.step, 20);
  m.dispose();
});

test('frozen parameters stay bitwise unchanged; others move', async (t) => {
  const m = await Model.load(tinyBert);
  const before = await allParameters(m);
  await m.configureTraining({ lr: 1e-3, weightDecay: 0.1, trainable: (p) => p.layer !== 0 });
  for (let i = 0; i < 2; i++) await m.trainStep(batch);
  for (const p of m.parameters()) {
    const same = maxAbsDiff(before.get(p.name) as Float32Array, await m.getParameter(p.name)) === 0;
    if (p.layer === 0) t.true(same, `${p.name} changed`);
    else if (!isKeyBias(p.name)) t.false(same, `${p.name} did not change`);
  }
  m.dispose();
});

test('bad batches are errors with codes, never crashes', async (t) => {
  const m = await Model.load(tinyBert);
  const code = async (p: () => Promise<unknown>) => {
    try {
      await p();
      return 'none';
    } catch (error) {
      return `${(error as { code: string }).code} ${(error as Error).message}`;
    }
  };
  const ids = Int32Array.from(batch.inputIds);
  ids[5] = 67;
  t.regex(
    await code(() => m.predict({ ...batch, inputIds: ids })),
    /^ERR_ARGUMENT inputIds\[5\] \(row 0, position 5\) = 67 is outside the vocabulary \[0, 67\)/,
  );
  const negative = Int32Array.from(batch.inputIds);
  negative[0] = -1;
  t.regex(await code(() => m.predict({ ...batch, inputIds: negative })), /^ERR_ARGUMENT .*-1 is outside/);
  t.regex(
    await code(() => m.predict({ ...batch, inputIds: batch.inputIds.slice(1) })),
    /^ERR_SHAPE batch.inputIds has 20 entries, expected batchSize x seqLen = 21/,
  );
  t.regex(
    await code(() => m.predict({ ...batch, seqLen: 100, inputIds: new Int32Array(300) })),
    /^ERR_SHAPE .*exceeds the model's maximum of 40/,
  );
  await m.configureTraining();
  t.regex(
    await code(() => m.trainStep({ ...batch, labels: Int32Array.from([0, 3, 1]) })),
    /^ERR_ARGUMENT labels\[1\] = 3 is outside \[0, 3\)/,
  );
  t.regex(await code(() => m.trainStep({ ...batch, labels: Float32Array.from([0, 1, 1]) })), /^ERR_ARGUMENT .*must be an Int32Array/);
  const { labels: _, ...unlabelled } = batch;
  t.regex(await code(() => m.trainStep(unlabelled)), /^ERR_ARGUMENT training needs batch.labels/);
  const types = Int32Array.from(batch.tokenTypeIds as Int32Array);
  types[0] = 2;
  t.regex(await code(() => m.predict({ ...batch, tokenTypeIds: types })), /^ERR_ARGUMENT tokenTypeIds\[0\] = 2 is outside \[0, 2\)/);
  const mask = new Uint8Array(batch.inputIds.length);
  t.regex(await code(() => m.predict({ ...batch, attentionMask: mask })), /^ERR_ARGUMENT attentionMask row 0 masks every position/);
  t.regex(await code(() => m.configureTraining({ lr: -1 })), /^ERR_ARGUMENT training option lr/);
  // The model still works after all that.
  t.is((await m.predict(batch)).length, 9);
  m.dispose();
  t.regex(await code(() => m.predict(batch)), /^ERR_DISPOSED/);
});

test('training before configureTraining is an error', async (t) => {
  const m = await Model.load(tinyBert);
  await t.throwsAsync(m.trainStep(batch), { message: /configureTraining/ });
  m.dispose();
});

test('concurrent calls are queued; the raw native handle refuses overlap with ERR_BUSY', async (t) => {
  const m = await Model.load(tinyBert);
  const results = await Promise.all(Array.from({ length: 6 }, () => m.predict(batch)));
  for (const r of results) t.deepEqual(r, results[0]);
  m.dispose();
  const native = loadNative();
  const raw = await native.createModel(m.config, 'cpu', 'float32', 0);
  const first = raw.predict(batch, 'logits');
  t.throws(() => raw.predict(batch, 'logits'), { code: 'ERR_BUSY' } as never);
  await first;
  raw.dispose();
});

test('bfloat16 mixed precision runs and stays close to float32', async (t) => {
  const f32 = await Model.load(tinyBert);
  const bf16 = await Model.load(tinyBert, { dtype: 'bfloat16' });
  t.is(bf16.dtype, 'bfloat16');
  const diff = maxAbsDiff(await f32.predict(batch), await bf16.predict(batch));
  t.true(diff > 0 && diff < 0.1, `diff ${diff}`);
  await bf16.configureTraining({ lr: 1e-3 });
  const r = await bf16.trainStep(batch);
  t.true(Number.isFinite(r.loss));
  f32.dispose();
  bf16.dispose();
});

test('training resumes exactly from a saved model plus its training state', async (t) => {
  const dir = tempDir();
  const options = { lr: 1e-3, weightDecay: 0.01, warmupSteps: 1, totalSteps: 6 };
  const a = await Model.load(tinyBert);
  await a.configureTraining(options);
  for (let i = 0; i < 2; i++) await a.trainStep(batch, { dropout: false });
  await a.save(dir);
  await a.saveTrainingState(dir, { cursor: 17 });
  for (let i = 0; i < 2; i++) await a.trainStep(batch, { dropout: false });
  const b = await Model.load(dir);
  await b.configureTraining(options);
  t.deepEqual(await b.loadTrainingState(dir), { cursor: 17 });
  const results = [];
  for (let i = 0; i < 2; i++) results.push(await b.trainStep(batch, { dropout: false }));
  t.is(results[1]?.step, 4);
  for (const p of a.parameters()) t.deepEqual(await b.getParameter(p.name), await a.getParameter(p.name), p.name);
  const frozen = await Model.load(dir);
  await frozen.configureTraining({ ...options, trainable: (p) => p.layer !== 0 });
  await t.throwsAsync(frozen.loadTrainingState(dir), { message: /other trainable parameters/ });
  for (const m of [a, b, frozen]) m.dispose();
});
