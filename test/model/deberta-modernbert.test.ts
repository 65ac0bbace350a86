/**
 * DeBERTa-v2/v3 and ModernBERT on the engine, without transformers (their parity: deberta-modernbert-
 * transformers.test.ts): what each refuses and why, their layouts (no absolute positions, relative embeddings
 * and the encoder LayerNorm, fused qkv, GLU, no biases, layer 0 without an attention norm, the final norm, the
 * head norm), ModernBERT's initialisation, heads and neurons cut from the descriptor (three runs of a fused
 * qkv, two of a GLU's input), the corruption report's note on DeBERTa's shared position projections, token
 * types ignored where the model has none, and pre-training folders.
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
const DEBERTA_V3 = config('deberta-v3-tiny');
const DEBERTA_V2 = config('deberta-v2-tiny');
const MODERNBERT = config('modernbert-tiny');
const MODERNBERT_MEAN = config('modernbert-tiny-mean');

const batch: Batch = {
  batchSize: 2,
  seqLen: 12,
  inputIds: Int32Array.from([1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 2, 1, 20, 21, 22, 23, 2, 0, 0, 0, 0, 0, 0]),
  attentionMask: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]),
  labels: Int32Array.from([1, 0]),
};

const codeOf = (e: unknown) => (e as { code?: string }).code;

test('options healbert does not implement are ERR_CONFIG naming the option', (t) => {
  for (const [raw, option] of [
    [{ ...DEBERTA_V3, conv_kernel_size: 3 }, 'conv_kernel_size'],
    [{ ...DEBERTA_V3, relative_attention: false }, 'relative_attention'],
    [{ ...DEBERTA_V3, pos_att_type: ['p2c', 'p2p'] }, 'pos_att_type'],
    [{ ...DEBERTA_V3, pos_att_type: [] }, 'pos_att_type'],
    [{ ...DEBERTA_V3, attention_head_size: 16 }, 'attention_head_size'],
    [{ ...DEBERTA_V3, pooler_hidden_size: 64 }, 'pooler_hidden_size'],
    [{ ...MODERNBERT, classifier_pooling: 'max' }, 'classifier_pooling'],
    [
      { ...MODERNBERT, rope_parameters: { full_attention: { rope_type: 'linear', factor: 2 } } },
      'rope_parameters.full_attention.rope_type',
    ],
    [{ ...MODERNBERT, rope_scaling: { rope_type: 'dynamic', factor: 2 } }, 'rope_scaling'],
    [{ ...MODERNBERT, head_dim: 16 }, 'head_dim'],
  ] as const) {
    const e = t.throws(() => engineConfig(raw, 'x/config.json'), undefined, option);
    t.is(codeOf(e), 'ERR_CONFIG', option);
    t.true(e?.message.includes(`"${option}"`), e?.message);
  }
});

test('a masked-LM head is refused for both families before anything loads', (t) => {
  for (const raw of [DEBERTA_V3, MODERNBERT]) t.is(codeOf(t.throws(() => engineConfig(raw, 'c', { mlmHead: true }))), 'ERR_ARGUMENT');
});

test("DeBERTa's layout: relative embeddings and the encoder LayerNorm, position projections only without share_att_key", (t) => {
  const v3 = layoutOf(engineConfig(DEBERTA_V3, 'c'));
  const roles = new Set(v3.map((p) => p.role));
  t.false(roles.has('embeddings.position'), 'position_biased_input: false');
  t.false(roles.has('embeddings.token_type'), 'type_vocab_size: 0');
  t.false(roles.has('layer.pos_key.weight'));
  t.deepEqual(v3.find((p) => p.role === 'encoder.relative_embeddings')?.shape, [16, 32], '2 x position_buckets rows');
  t.deepEqual(
    v3.filter((p) => p.component === 'encoder.layernorm').map((p) => p.name),
    ['deberta.encoder.LayerNorm.weight', 'deberta.encoder.LayerNorm.bias'],
  );
  t.deepEqual(
    v3.filter((p) => p.isHead).map((p) => p.name),
    ['pooler.dense.weight', 'pooler.dense.bias', 'classifier.weight', 'classifier.bias'],
    "the ContextPooler is the task head's (DeBERTa's pre-training folders have none)",
  );
  const v2 = layoutOf(engineConfig(DEBERTA_V2, 'c'));
  const names = v2.map((p) => p.name);
  t.true(names.includes('deberta.encoder.layer.0.attention.self.pos_key_proj.bias'));
  t.true(names.includes('deberta.encoder.layer.1.attention.self.pos_query_proj.weight'));
  t.true(names.includes('deberta.embeddings.position_embeddings.weight'));
  t.deepEqual(v2.find((p) => p.role === 'encoder.relative_embeddings')?.shape, [32, 32], '2 x max_relative_positions rows');
  // embed_proj (no bias) comes before the embeddings' LayerNorm, which is hidden_size wide.
  t.false(names.includes('deberta.embeddings.embed_proj.bias'));
  t.deepEqual(v2.find((p) => p.role === 'embeddings.norm.weight')?.shape, [32]);
  t.true(names.indexOf('deberta.embeddings.embed_proj.weight') < names.indexOf('deberta.embeddings.LayerNorm.weight'));
  const c2p = layoutOf(engineConfig({ ...DEBERTA_V2, pos_att_type: 'c2p' }, 'c')).map((p) => p.name);
  t.true(c2p.includes('deberta.encoder.layer.0.attention.self.pos_key_proj.weight'));
  t.false(c2p.includes('deberta.encoder.layer.0.attention.self.pos_query_proj.weight'), 'pos_query_proj serves p2c only');
});

test("ModernBERT's layout: fused qkv, GLU input of 2I rows, no biases, no attention norm in layer 0, a final norm and a head norm", (t) => {
  const c = engineConfig(MODERNBERT, 'c');
  t.deepEqual(c.rotary, { globalTheta: 160000, localTheta: 10000, window: 4, localLayers: [1] });
  const layout = layoutOf(c);
  t.is(layout.filter((p) => p.kind === 'bias' || p.kind === 'layernorm.bias').length, 1, 'only the classifier has a bias');
  t.deepEqual(layout.find((p) => p.role === 'layer.qkv.weight')?.shape, [96, 32]);
  t.deepEqual(layout.find((p) => p.role === 'layer.ffn_in.weight')?.shape, [48, 32]);
  t.deepEqual(
    layout.filter((p) => p.role === 'layer.attention_norm.weight').map((p) => p.layer),
    [1, 2],
  );
  t.true(layout.some((p) => p.name === 'model.final_norm.weight'));
  t.deepEqual(
    layout.filter((p) => p.component === 'pooler').map((p) => p.name),
    ['head.dense.weight', 'head.norm.weight'],
    "the head's dense and norm are pre-trained (ModernBertForMaskedLM has them): the pooler's role",
  );
  const mean = engineConfig(MODERNBERT_MEAN, 'c');
  t.is(mean.structure.pooling, 'mean');
  t.deepEqual(mean.rotary, { globalTheta: 1000, localTheta: 500, window: 3, localLayers: [0, 2] });
  // Every bias: per layer Wqkv, Wo, Wi, Wo and mlp_norm (and attn_norm after layer 0); the embeddings', final
  // and head norms; the head's dense and the classifier.
  t.is(layoutOf(mean).filter((p) => p.kind === 'bias' || p.kind === 'layernorm.bias').length, 3 * 5 + 2 + 3 + 2);
});

test("ModernBERT's initialisation: truncated normals at 2 std, the output projections and the head's dense by sqrt(2L), the classifier at hidden^-0.5, the padding row drawn", async (t) => {
  const m = await Model.fromConfig({ ...MODERNBERT, vocab_size: 4000, intermediate_size: 256 }, { seed: 1, numLabels: 60 });
  try {
    const stats = async (name: string) => {
      const v = await m.getParameter(name);
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
      return { sd, max: v.reduce((a, b) => Math.max(a, Math.abs(b)), 0), v };
    };
    // A normal cut at +-2 std keeps 0.880 of its std.
    for (const [name, std] of [
      ['model.embeddings.tok_embeddings.weight', 0.02],
      ['model.layers.0.mlp.Wi.weight', 0.02],
      ['model.layers.1.attn.Wo.weight', 0.02 / Math.sqrt(6)],
      ['head.dense.weight', 0.02 / Math.sqrt(6)],
      ['classifier.weight', 32 ** -0.5],
    ] as const) {
      const s = await stats(name);
      t.true(s.max <= 2 * std * (1 + 1e-6), `${name}: max ${s.max} beyond 2 std ${2 * std}`);
      t.true(Math.abs(s.sd / (0.88 * std) - 1) < 0.06, `${name}: std ${s.sd}, expected about ${0.88 * std}`);
    }
    const word = (await stats('model.embeddings.tok_embeddings.weight')).v;
    t.true(
      word.subarray(0, 32).some((x) => x !== 0),
      "the padding row is drawn like the others (ModernBERT's trunc_normal_ overwrites it)",
    );
  } finally {
    m.dispose();
  }
});

test('heads and neurons: a head is three row runs of Wqkv, a GLU neuron its input and gate rows', async (t) => {
  const m = await Model.fromConfig(MODERNBERT, { seed: 2 });
  try {
    const r = await corrupt(m, { method: 'zero', targets: { layers: 1, heads: 1 } }, { seed: 1 });
    t.deepEqual(
      r.tensors.map((x) => [x.name, x.slices?.[0]?.numel]),
      [
        ['model.layers.1.attn.Wqkv.weight', 3 * 8 * 32],
        ['model.layers.1.attn.Wo.weight', 8 * 32],
      ],
    );
    const qkv = await m.getParameter('model.layers.1.attn.Wqkv.weight');
    for (let row = 0; row < 96; row++) {
      const zero = qkv.subarray(row * 32, (row + 1) * 32).every((v) => v === 0);
      t.is(zero, row % 32 >= 8 && row % 32 < 16, `Wqkv row ${row}`);
    }
    const n = await corrupt(m, { method: 'zero', targets: { layers: 0, neurons: '0-3' } }, { seed: 1 });
    t.deepEqual(
      n.tensors.map((x) => x.slices?.[0]?.numel),
      [2 * 4 * 32, 4 * 32],
    );
    const wi = await m.getParameter('model.layers.0.mlp.Wi.weight');
    for (let row = 0; row < 48; row++) {
      const zero = wi.subarray(row * 32, (row + 1) * 32).every((v) => v === 0);
      t.is(zero, row % 24 < 4, `Wi row ${row}`);
    }
  } finally {
    m.dispose();
  }
});

test("DeBERTa: a head's rows include its position projections; with share_att_key the report says its query and key rows feed the position terms", async (t) => {
  const own = await Model.fromConfig(DEBERTA_V2, { seed: 2 });
  const shared = await Model.fromConfig(DEBERTA_V3, { seed: 2 });
  try {
    const a = await corrupt(own, { method: 'zero', targets: { layers: 0, heads: 2 } }, { seed: 1 });
    t.deepEqual(
      a.tensors.map((x) => x.component),
      [
        ...Array(8)
          .fill(0)
          .map((_, i) => ['attention.query', 'attention.key', 'attention.value', 'attention.pos_key'][i >> 1]),
        'attention.pos_query',
        'attention.pos_query',
        'attention.output',
      ],
    );
    t.is(a.notes, undefined, 'own position projections: a head reaches no further than its tensors');
    const b = await corrupt(shared, { method: 'zero', targets: { layers: 'all', heads: 2 } }, { seed: 1 });
    t.is(b.notes?.length, 1);
    t.regex(b.notes?.[0] ?? '', /share_att_key.*layers 0, 1.*content-to-position.*position-to-content/);
    const value = await corrupt(
      shared,
      { method: 'gaussian', level: 0.1, targets: { layers: 0, components: ['attention.value'] } },
      { seed: 1 },
    );
    t.is(value.notes, undefined, 'value projections do not project positions');
    const parts = await corrupt(shared, { method: 'zero', targets: { include: ['rel_embeddings', 'encoder.layernorm'] } }, { seed: 1 });
    t.deepEqual(
      parts.groups.map((g) => g.group),
      ['encoder'],
    );
    t.is(parts.tensors.length, 3);
  } finally {
    own.dispose();
    shared.dispose();
  }
});

test('token types are ignored where the model has no token-type embeddings, as transformers ignores them', async (t) => {
  for (const raw of [DEBERTA_V3, MODERNBERT]) {
    const m = await Model.fromConfig(raw, { seed: 4 });
    try {
      const types = Int32Array.from({ length: 24 }, (_, i) => (i % 12 >= 6 ? 1 : 0));
      t.is(maxAbsDiff(await m.predict({ ...batch, tokenTypeIds: types }), await m.predict(batch)), 0, raw.model_type);
    } finally {
      m.dispose();
    }
  }
});

test('a ModernBertForMaskedLM folder loads head.dense and head.norm; the decoder is ignored with a note, the classifier starts fresh', async (t) => {
  const dir = tempDir('healbert-modernbert-');
  const source = await Model.fromConfig(MODERNBERT, { seed: 5 });
  await source.save(dir);
  const pretraining = deriveCheckpoint(dir, {
    rename: (name) => (name.startsWith('classifier.') ? null : name),
    extra: [['decoder.bias', [97], new Float32Array(97)]],
    config: (c) => ({ ...c, architectures: ['ModernBertForMaskedLM'] }),
  });
  const m = await Model.load(pretraining);
  try {
    t.deepEqual(m.loadReport?.unexpected, []);
    t.deepEqual(m.loadReport?.ignored, ['decoder.bias']);
    t.regex(m.loadReport?.notes[0] ?? '', /decoder/);
    t.deepEqual(m.loadReport?.initialised, ['classifier.weight', 'classifier.bias']);
    for (const name of ['head.dense.weight', 'head.norm.weight'])
      t.deepEqual(await m.getParameter(name), await source.getParameter(name), `${name} loaded`);
  } finally {
    m.dispose();
    source.dispose();
  }
});

test('a DeBERTa pre-training folder: its masked-LM head and unused absolute positions are ignored, the ContextPooler and classifier start fresh', async (t) => {
  const dir = tempDir('healbert-deberta-');
  const source = await Model.fromConfig(DEBERTA_V3, { seed: 5 });
  await source.save(dir);
  source.dispose();
  const pretraining = deriveCheckpoint(dir, {
    rename: (name) => (/^(pooler|classifier)\./.test(name) ? null : name),
    extra: [
      ['deberta.embeddings.position_embeddings.weight', [40, 32], new Float32Array(40 * 32)],
      ['lm_predictions.lm_head.bias', [97], new Float32Array(97)],
    ],
  });
  const m = await Model.load(pretraining);
  try {
    t.deepEqual(m.loadReport?.unexpected, []);
    t.deepEqual(m.loadReport?.ignored.sort(), ['deberta.embeddings.position_embeddings.weight', 'lm_predictions.lm_head.bias']);
    t.deepEqual(m.loadReport?.initialised, ['pooler.dense.weight', 'pooler.dense.bias', 'classifier.weight', 'classifier.bias']);
    t.is((await m.predict(batch)).length, 4);
  } finally {
    m.dispose();
  }
});
