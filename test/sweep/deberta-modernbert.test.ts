/**
 * DeBERTa-v3 and ModernBERT through the whole pipeline on the CPU: a sweep over both (fleets, both protocols,
 * a layer and a head corruption, bf16), head and component scans (ModernBERT's fused qkv, its layer 0 without
 * an attention norm), a neuron scan of its GLU, and a DeBERTa corruption of its relative embeddings. The models
 * are tiny, with the fixture's 400-token WordPiece vocabulary (the tokenizer is not the family's: the pipeline
 * reads whatever tokenizer a folder has).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Model } from '../../src/model/model.js';
import { scan } from '../../src/scan/scan.js';
import { runSweep } from '../../src/sweep/run.js';
import { readSweep } from '../../src/sweep/store.js';
import { tempDir } from '../helpers/checkpoints.js';
import { modelFixture } from '../helpers/fixtures.js';
import { demoGlue } from '../helpers/sweep.js';

const SIZES = { vocab_size: 400, hidden_size: 32, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 48, pad_token_id: 0 };
const FAMILIES = {
  deberta: {
    model_type: 'deberta-v2',
    max_position_embeddings: 64,
    relative_attention: true,
    position_buckets: 16,
    max_relative_positions: 64,
    norm_rel_ebd: 'layer_norm',
    share_att_key: true,
    pos_att_type: 'p2c|c2p',
    position_biased_input: false,
    type_vocab_size: 0,
    ...SIZES,
  },
  modernbert: {
    model_type: 'modernbert',
    max_position_embeddings: 64,
    local_attention: 8,
    global_attn_every_n_layers: 2,
    classifier_pooling: 'mean',
    embedding_dropout: 0.1,
    mlp_dropout: 0.1,
    ...SIZES,
  },
};

/** A tiny model of the family with tiny-bert-sst2's tokenizer, as a Hugging Face folder. */
async function makeModel(family: keyof typeof FAMILIES): Promise<string> {
  const dir = join(tempDir(`healbert-${family}-`), family);
  const model = await Model.fromConfig(FAMILIES[family], { seed: 5 });
  await model.save(dir);
  model.dispose();
  for (const f of ['vocab.txt', 'tokenizer_config.json']) copyFileSync(join(modelFixture('tiny-bert-sst2'), f), join(dir, f));
  return dir;
}

for (const protocol of ['pretrained', 'finetuned'] as const) {
  test(`${protocol} protocol: DeBERTa-v3 and ModernBERT cells run in fleets, in bf16, layer and head corruptions`, async (t) => {
    const [deberta, modernbert] = [await makeModel('deberta'), await makeModel('modernbert')];
    const out = join(tempDir(), 'sweep');
    const summary = await runSweep(
      {
        name: 'deberta-modernbert',
        models: [
          { name: 'deberta', path: deberta },
          { name: 'modernbert', path: modernbert },
        ],
        tasks: [{ name: 'sst2', data: demoGlue, trainExamples: 48, evalExamples: 48 }],
        corruptions: [
          { method: 'reinit', targets: { layers: 1 } },
          { method: 'zero', label: 'head', targets: { layers: 'all', heads: 1 } },
        ],
        seeds: [0],
        recipe: { epochs: 1, batchSize: 16, maxLength: 32, lr: 1e-3, evalBatchSize: 48 },
        probe: { epochs: 3 },
        protocol,
        fleet: 2,
        dtype: 'bfloat16',
      },
      { out },
    );
    t.is(summary.failed, 0);
    const results = (await readSweep(out)).flatMap((c) => (c.result ? [c.result] : []));
    t.is(results.length, protocol === 'pretrained' ? 6 : 8);
    for (const r of results) {
      t.is(r.status, 'done', r.id);
      t.true(typeof r.scores.final?.accuracy === 'number', r.id);
      t.is(r.config.dtype, 'bfloat16');
    }
    const head = results.find((r) => r.config.model.name === 'modernbert' && r.config.corruption?.label === 'head');
    // A ModernBERT head: its three row runs of Wqkv and its columns of Wo, in each of the 3 layers.
    t.is(head?.corruption?.tensors, 6);
    const debertaHead = results.find((r) => r.config.model.name === 'deberta' && r.config.corruption?.label === 'head');
    t.regex(debertaHead?.corruption?.notes?.[0] ?? '', /share_att_key/);
    t.true(
      results.some((r) => r.fleet !== undefined && r.fleet.size === 2),
      'cells ran in fleets',
    );
  });
}

test('scans of ModernBERT: every (layer, head), the components each layer has, GLU neuron groups', async (t) => {
  const model = await Model.load(await makeModel('modernbert'), { numLabels: 2 });
  const common = { task: 'sst2', data: demoGlue, method: 'zero' as const, seeds: [0], rows: 32, cacheDir: false as const };
  try {
    const heads = await scan(model, { ...common, each: 'head', layers: '0-1' });
    t.deepEqual(
      heads.rows.map((r) => r.target),
      ['layer 0 head 0', 'layer 0 head 1', 'layer 1 head 0', 'layer 1 head 1'],
    );
    t.true(heads.rows.every((r) => r.n === 1 && r.mean !== null));
    const components = await scan(model, { ...common, each: 'layer.component', layers: '0-1' });
    t.deepEqual(
      components.rows.map((r) => r.target),
      [
        'layer 0 attention.qkv',
        'layer 0 attention.output',
        'layer 0 ffn.intermediate',
        'layer 0 ffn.output',
        'layer 0 ffn.layernorm',
        'layer 1 attention.qkv',
        'layer 1 attention.output',
        'layer 1 attention.layernorm',
        'layer 1 ffn.intermediate',
        'layer 1 ffn.output',
        'layer 1 ffn.layernorm',
      ],
    );
    const neurons = await scan(model, { ...common, each: 'neuron', layers: 2, neuronGroups: 4 });
    t.deepEqual(
      neurons.rows.map((r) => r.target),
      ['layer 2 neurons 0-11', 'layer 2 neurons 12-23', 'layer 2 neurons 24-35', 'layer 2 neurons 36-47'],
    );
  } finally {
    model.dispose();
  }
});
