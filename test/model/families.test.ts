/**
 * The families beyond BERT on the engine, without transformers (its parity: families-transformers.test.ts):
 * what each refuses and why, ELECTRA pre-training folders, ALBERT's shared layer groups (targets, untying,
 * saving), heads and neurons cut from the descriptor.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Batch } from '../../src/batch.js';
import { corrupt } from '../../src/corruption/corrupt.js';
import { engineConfig } from '../../src/model/config.js';
import { layoutOf } from '../../src/model/layout.js';
import { Model } from '../../src/model/model.js';
import { deriveCheckpoint, tempDir } from '../helpers/checkpoints.js';
import { fixturesDir, maxAbsDiff } from '../helpers/fixtures.js';

const config = (name: string) => JSON.parse(readFileSync(join(fixturesDir, 'configs', `${name}.json`), 'utf8'));
const ELECTRA = config('electra-tiny');
const ALBERT = config('albert-tiny');
const XLMR = config('xlm-roberta-tiny');

const batch: Batch = {
  batchSize: 2,
  seqLen: 6,
  inputIds: Int32Array.from([2, 10, 11, 12, 13, 3, 2, 20, 21, 3, 0, 0]),
  attentionMask: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
  tokenTypeIds: Int32Array.from([0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0]),
  labels: Int32Array.from([1, 0]),
};

/** A saved model folder of a config, fresh weights. */
async function folder(raw: Record<string, unknown>, options: { untieLayers?: boolean } = {}): Promise<string> {
  const dir = tempDir('healbert-family-');
  const m = await Model.fromConfig(raw, { seed: 3, ...options });
  await m.save(dir);
  m.dispose();
  return dir;
}

test('an unknown model_type is ERR_CONFIG naming the field and listing the families', (t) => {
  const e = t.throws(() => engineConfig({ ...ELECTRA, model_type: 'gpt2' }, 'x/config.json'));
  t.is((e as { code?: string }).code, 'ERR_CONFIG');
  t.regex(e?.message ?? '', /model_type "gpt2".*bert.*electra.*albert/);
});

test('options healbert does not implement are ERR_CONFIG naming the option, never wrong numbers', (t) => {
  for (const [raw, option] of [
    [{ ...ALBERT, inner_group_num: 2 }, 'inner_group_num'],
    [{ ...XLMR, position_embedding_type: 'relative_key' }, 'position_embedding_type'],
    [{ ...ELECTRA, position_embedding_type: 'relative_key_query' }, 'position_embedding_type'],
    [
      { model_type: 'distilbert', dim: 32, n_layers: 2, n_heads: 4, hidden_dim: 37, vocab_size: 97, sinusoidal_pos_embds: true },
      'sinusoidal_pos_embds',
    ],
  ] as const) {
    const e = t.throws(() => engineConfig(raw, 'x/config.json'), undefined, option);
    t.is((e as { code?: string }).code, 'ERR_CONFIG', option);
    t.true(e?.message.includes(`"${option}"`), e?.message);
  }
});

test('an ELECTRA discriminator has no masked-LM head: asking for one is refused before anything loads', (t) => {
  const e = t.throws(() => engineConfig(ELECTRA, 'x/config.json', { mlmHead: true }));
  t.is((e as { code?: string }).code, 'ERR_ARGUMENT');
  t.regex(e?.message ?? '', /ELECTRA discriminator has no masked-LM head/);
});

test('ELECTRA: embeddings embedding_size wide, projected to the hidden size only where the widths differ', (t) => {
  const names = (raw: Record<string, unknown>) => layoutOf(engineConfig(raw, 'c')).map((p) => p.name);
  t.true(names(ELECTRA).includes('electra.embeddings_project.weight'));
  t.false(names({ ...ELECTRA, embedding_size: 32 }).includes('electra.embeddings_project.weight'));
  const word = layoutOf(engineConfig(ELECTRA, 'c')).find((p) => p.role === 'embeddings.word');
  t.deepEqual(word?.shape, [97, 16]);
});

test('an ElectraForPreTraining folder loads its discriminator; the detection head is ignored with a note', async (t) => {
  const dir = await folder(ELECTRA);
  const pretraining = deriveCheckpoint(dir, {
    rename: (name) => (name.startsWith('classifier.') ? null : name),
    extra: [
      ['discriminator_predictions.dense.weight', [32, 32], new Float32Array(32 * 32)],
      ['discriminator_predictions.dense.bias', [32], new Float32Array(32)],
      ['discriminator_predictions.dense_prediction.weight', [1, 32], new Float32Array(32)],
      ['discriminator_predictions.dense_prediction.bias', [1], new Float32Array(1)],
    ],
    config: (c) => ({ ...c, architectures: ['ElectraForPreTraining'] }),
  });
  const m = await Model.load(pretraining);
  t.deepEqual(m.loadReport?.unexpected, []);
  t.is(m.loadReport?.ignored.length, 4);
  t.is(m.loadReport?.notes.length, 1);
  t.regex(m.loadReport?.notes[0] ?? '', /replaced-token-detection head/);
  t.deepEqual(m.loadReport?.initialised, [
    'classifier.dense.weight',
    'classifier.dense.bias',
    'classifier.out_proj.weight',
    'classifier.out_proj.bias',
  ]);
  t.is((await m.predict(batch)).length, 4);
  m.dispose();
});

test('ALBERT: one set of layer tensors serves every layer of its group', (t) => {
  const layout = layoutOf(engineConfig(ALBERT, 'c'));
  const query = layout.filter((p) => p.role === 'layer.query.weight');
  t.is(query.length, 1);
  t.deepEqual(query[0]?.layers, [0, 1, 2]);
  const groups = layoutOf(engineConfig(config('albert-tiny-groups'), 'c')).filter((p) => p.role === 'layer.query.weight');
  t.deepEqual(
    groups.map((p) => [p.name, p.layers]),
    [
      ['albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight', [0, 1]],
      ['albert.encoder.albert_layer_groups.1.albert_layers.0.attention.query.weight', [2, 3]],
    ],
  );
});

test('ALBERT: a layer target on a shared group is refused naming the layers, and allowed once untied', async (t) => {
  const dir = await folder(ALBERT);
  const tied = await Model.load(dir);
  const e = await t.throwsAsync(corrupt(tied, { method: 'zero', targets: { layers: 1 } }, { seed: 1 }));
  t.is((e as { code?: string }).code, 'ERR_CONFIG');
  t.regex(e?.message ?? '', /shared by layers 0, 1, 2.*untieLayers/);
  // Every layer of the group at once is not ambiguous: allowed, and the report says which layers it hit.
  const all = await corrupt(tied, { method: 'zero', targets: { layers: 'all', components: ['attention.query'] } }, { seed: 1 });
  t.deepEqual(all.tensors[0]?.sharedBy, [0, 1, 2]);
  t.is(all.groups[0]?.group, 'layers 0, 1, 2 (shared)');
  tied.dispose();

  const before = await Model.load(dir);
  const untied = await Model.load(dir, { untieLayers: true });
  t.is(untied.parameters().filter((p) => p.role === 'layer.query.weight').length, 3);
  t.true(maxAbsDiff(await untied.predict(batch), await before.predict(batch)) < 1e-6, 'untying changes no output');
  const report = await corrupt(untied, { method: 'zero', targets: { layers: 1 } }, { seed: 1 });
  t.true(report.tensors.every((x) => x.layer === 1 && x.sharedBy === undefined));
  const q = (m: Model, i: number) => m.getParameter(`albert.encoder.albert_layer_groups.${i}.albert_layers.0.attention.query.weight`);
  t.true((await q(untied, 1)).every((v) => v === 0));
  t.deepEqual(await q(untied, 0), await q(before, 0));
  t.deepEqual(await q(untied, 2), await q(before, 0));

  // Saved untied: one group per layer, which loads back as such with the same outputs.
  const out = tempDir('healbert-untied-');
  await untied.save(out);
  const saved = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  t.is(saved.num_hidden_groups, 3);
  const back = await Model.load(out);
  t.deepEqual(back.loadReport?.unexpected, []);
  t.true(maxAbsDiff(await back.predict(batch), await untied.predict(batch)) < 1e-6);
  for (const m of [before, untied, back]) m.dispose();
});

test('heads and neurons are cut where the descriptor puts them, in every family', async (t) => {
  for (const raw of [ELECTRA, XLMR, { ...ALBERT }]) {
    const m = await Model.fromConfig(raw, { seed: 2, untieLayers: true });
    const r = await corrupt(m, { method: 'zero', targets: { layers: 0, heads: 1 } }, { seed: 1 });
    // q, k, v weights and biases (rows 8..15) and the attention output's weight (columns 8..15).
    t.is(r.tensors.length, 7, raw.model_type);
    const query = await m.getParameter(m.parameters().find((p) => p.role === 'layer.query.weight' && p.layer === 0)?.name as string);
    for (let row = 0; row < 32; row++) {
      const zero = query.subarray(row * 32, (row + 1) * 32).every((v) => v === 0);
      t.is(zero, row >= 8 && row < 16, `${raw.model_type} row ${row}`);
    }
    const n = await corrupt(m, { method: 'zero', targets: { layers: 0, neurons: '0-3' } }, { seed: 1 });
    t.deepEqual(
      n.tensors.map((x) => x.slices?.[0]?.numel),
      [4 * 32, 4, 4 * 32],
      raw.model_type,
    );
    m.dispose();
  }
});
