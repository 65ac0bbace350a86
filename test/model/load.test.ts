import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Model } from '../../src/model/model.js';
import { copyModelDir, deriveCheckpoint, tempDir } from '../helpers/checkpoints.js';
import { fixtureBatch, fixturesDir, maxAbsDiff, modelFixture, readTensors } from '../helpers/fixtures.js';

const tinyBert = modelFixture('tiny-bert');
const { tensors } = readTensors(join(fixturesDir, 'parity', 'tiny-bert.transformers.safetensors'));
const batch = fixtureBatch(tensors, { tokenTypes: true, regression: false });

async function loadError(dir: string, options: Parameters<typeof Model.load>[1] = {}): Promise<{ code: string; message: string }> {
  try {
    const m = await Model.load(dir, options);
    m.dispose();
    return { code: 'none', message: 'loaded' };
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
}

async function logitsOf(dir: string, options: Parameters<typeof Model.load>[1] = {}): Promise<Float32Array> {
  const m = await Model.load(dir, options);
  try {
    return await m.predict(batch);
  } finally {
    m.dispose();
  }
}

test('a complete checkpoint loads with nothing initialised, ignored or unexpected', async (t) => {
  const m = await Model.load(tinyBert);
  t.deepEqual(m.loadReport?.initialised, []);
  t.deepEqual(m.loadReport?.unexpected, []);
  t.is(m.config.arch, 'bert');
  t.is(m.config.numLabels, 3);
  t.is(m.parameters().length, 5 + 2 * 16 + 4);
  t.is(
    m.numParameters,
    m.parameters().reduce((s, p) => s + p.numel, 0),
  );
  m.dispose();
});

test('a BertModel-style checkpoint (no prefix, no head, TF-era gamma/beta, pre-training heads) loads', async (t) => {
  const dir = deriveCheckpoint(tinyBert, {
    rename: (name) =>
      name.startsWith('classifier')
        ? null
        : name
            .replace(/^bert\./, '')
            .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
            .replace(/LayerNorm\.bias$/, 'LayerNorm.beta'),
    extra: [
      ['cls.predictions.bias', [67], new Float32Array(67)],
      ['embeddings.position_ids', [40], new Float32Array(40)],
    ],
  });
  const m = await Model.load(dir);
  t.deepEqual(m.loadReport?.initialised, ['classifier.weight', 'classifier.bias']);
  t.deepEqual(m.loadReport?.ignored.sort(), ['cls.predictions.bias', 'embeddings.position_ids']);
  // The encoder is the fixture's: the first-token states agree exactly.
  const reference = await Model.load(tinyBert);
  t.deepEqual(await m.predict(batch, { output: 'cls' }), await reference.predict(batch, { output: 'cls' }));
  // The fresh classifier follows Hugging Face's init: N(0, 0.02) weights, zero bias.
  const w = await m.getParameter('classifier.weight');
  const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
  t.true(std > 0.01 && std < 0.03, `std ${std}`);
  t.deepEqual([...(await m.getParameter('classifier.bias'))], [0, 0, 0]);
  m.dispose();
  reference.dispose();
});

test('a sharded checkpoint gives the same logits as the single file', async (t) => {
  const dir = deriveCheckpoint(tinyBert, { shards: 3 });
  t.deepEqual(await logitsOf(dir), await logitsOf(tinyBert));
});

test('a missing encoder tensor is an error naming it', async (t) => {
  const dir = deriveCheckpoint(tinyBert, { rename: (n) => (n === 'bert.encoder.layer.1.output.dense.weight' ? null : n) });
  const e = await loadError(dir);
  t.is(e.code, 'ERR_CHECKPOINT');
  t.regex(e.message, /tensor "bert\.encoder\.layer\.1\.output\.dense\.weight" \(shape \[32, 37\]\) is missing/);
});

test('a config that does not match the weights is an error naming the tensor', async (t) => {
  const dir = deriveCheckpoint(tinyBert, { config: (c) => ({ ...c, intermediate_size: 40 }) });
  const e = await loadError(dir);
  t.is(e.code, 'ERR_CHECKPOINT');
  t.regex(e.message, /tensor "bert\.encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[37, 32\], but the config needs \[40, 32\]/);
});

test('a different label count needs newHead, which starts a fresh head', async (t) => {
  const e = await loadError(tinyBert, { numLabels: 5 });
  t.is(e.code, 'ERR_CHECKPOINT');
  t.regex(e.message, /tensor "classifier.weight" has shape \[3, 32\].*newHead/);
  const m = await Model.load(tinyBert, { numLabels: 5, newHead: true });
  t.is(m.config.numLabels, 5);
  t.deepEqual(m.loadReport?.replacedHead, ['classifier.weight', 'classifier.bias']);
  t.is((await m.predict(batch)).length, batch.batchSize * 5);
  m.dispose();
});

test('pytorch_model.bin is refused with instructions to convert it safely', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
  writeFileSync(join(dir, 'pytorch_model.bin'), 'not really a pickle');
  const e = await loadError(dir);
  t.is(e.code, 'ERR_CHECKPOINT');
  t.regex(e.message, /pytorch_model\.bin but no model\.safetensors.*arbitrary code.*weights_only=True/s);
});

test('a truncated weights file is an error, not a crash', async (t) => {
  const dir = copyModelDir(tinyBert);
  truncateSync(join(dir, 'model.safetensors'), 50_000);
  const e = await loadError(dir);
  t.is(e.code, 'ERR_CHECKPOINT');
  t.regex(e.message, /truncated/);
});

test('unsupported or broken configs are clear errors', async (t) => {
  const gpt = deriveCheckpoint(tinyBert, { config: (c) => ({ ...c, model_type: 'gpt2' }) });
  t.regex((await loadError(gpt)).message, /model_type "gpt2" is not supported/);
  const heads = deriveCheckpoint(tinyBert, { config: (c) => ({ ...c, num_attention_heads: 5 }) });
  t.regex((await loadError(heads)).message, /not divisible by 5 attention heads/);
  const act = deriveCheckpoint(tinyBert, { config: (c) => ({ ...c, hidden_act: 'mish' }) });
  t.regex((await loadError(act)).message, /activation "mish" is not supported/);
  const noDir = await loadError('/nonexistent/model');
  t.is(noDir.code, 'ERR_CHECKPOINT');
  t.regex(noDir.message, /\/nonexistent\/model: no such model folder/);
});

test('float16 and bfloat16 checkpoints load (converted to float32)', async (t) => {
  const reference = await logitsOf(tinyBert);
  const m = await Model.load(tinyBert);
  for (const dtype of ['float16', 'bfloat16'] as const) {
    const dir = tempDir();
    await m.save(dir, { dtype });
    const diff = maxAbsDiff(await logitsOf(dir), reference);
    t.true(diff > 0 && diff < 0.05, `${dtype}: ${diff}`);
  }
  m.dispose();
});
