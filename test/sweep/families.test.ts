/**
 * The families beyond BERT through the whole pipeline on the CPU: a sweep over an ELECTRA and an ALBERT model
 * (fleets, both protocols, layer and head corruptions, bf16), a head scan, and what is refused before any
 * training (MLM healing on an ELECTRA discriminator, a layer of a shared ALBERT group without untieLayers).
 * The models are tiny, with the fixture's 400-token WordPiece vocabulary.
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

const SIZES = { vocab_size: 400, hidden_size: 32, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 48 };
const FAMILIES = {
  electra: { model_type: 'electra', embedding_size: 16, max_position_embeddings: 64, ...SIZES },
  albert: { model_type: 'albert', embedding_size: 16, max_position_embeddings: 64, hidden_dropout_prob: 0.1, ...SIZES },
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

const spec = (electra: string, albert: string, extra: Record<string, unknown> = {}) => ({
  name: 'families',
  models: [
    { name: 'electra', path: electra },
    { name: 'albert', path: albert, untieLayers: true },
  ],
  tasks: [{ name: 'sst2', data: demoGlue, trainExamples: 48, evalExamples: 48 }],
  corruptions: [
    { method: 'reinit', targets: { layers: 1 } },
    { method: 'zero', label: 'head', targets: { layers: 'all', heads: 1 } },
  ],
  seeds: [0],
  recipe: { epochs: 1, batchSize: 16, maxLength: 32, lr: 1e-3, evalBatchSize: 48 },
  probe: { epochs: 3 },
  ...extra,
});

for (const protocol of ['pretrained', 'finetuned'] as const) {
  test(`${protocol} protocol: ELECTRA and untied ALBERT cells run in fleets, in bf16, layer and head corruptions`, async (t) => {
    const [electra, albert] = [await makeModel('electra'), await makeModel('albert')];
    const out = join(tempDir(), 'sweep');
    const summary = await runSweep(spec(electra, albert, { protocol, fleet: 2, dtype: 'bfloat16' }), { out });
    t.is(summary.failed, 0);
    const results = (await readSweep(out)).flatMap((c) => (c.result ? [c.result] : []));
    t.is(results.length, protocol === 'pretrained' ? 6 : 8);
    for (const r of results) {
      t.is(r.status, 'done', r.id);
      t.true(typeof r.scores.final?.accuracy === 'number', r.id);
      t.is(r.config.dtype, 'bfloat16');
    }
    const albertCells = results.filter((r) => r.config.model.name === 'albert');
    t.true(albertCells.every((r) => r.config.model.untieLayers === true));
    // The untied layer 1 alone was corrupted: one layer's tensors, none shared.
    const reinit = albertCells.find((r) => r.config.corruption?.method === 'reinit');
    t.deepEqual(
      reinit?.corruption?.groups.map((g) => g.group),
      ['layer 1'],
    );
    t.true(
      results.some((r) => r.fleet !== undefined && r.fleet.size === 2),
      'cells ran in fleets',
    );
  });
}

test('refused before any training: MLM healing on an ELECTRA discriminator, a layer of a shared ALBERT group', async (t) => {
  const [electra, albert] = [await makeModel('electra'), await makeModel('albert')];
  const mlm = await t.throwsAsync(
    runSweep(
      spec(electra, albert, {
        models: [{ name: 'electra', path: electra }],
        recovery: { mlmSteps: 2, mlmCorpus: join(modelFixture('tiny-bert-sst2'), 'vocab.txt') },
      }),
      { out: join(tempDir(), 'sweep') },
    ),
  );
  t.is((mlm as { code?: string }).code, 'ERR_CONFIG');
  t.regex(mlm?.message ?? '', /spec\.recovery\.mlmSteps.*ELECTRA discriminator has no masked-LM head/);
  const shared = await t.throwsAsync(
    runSweep(spec(electra, albert, { models: [{ name: 'albert', path: albert }] }), { out: join(tempDir(), 'sweep') }),
  );
  t.is((shared as { code?: string }).code, 'ERR_CONFIG');
  t.regex(shared?.message ?? '', /spec\.corruptions\[0\]\.targets\.layers: .*shared by layers 0, 1, 2/);
});

test('a head scan of an ELECTRA model scores every (layer, head)', async (t) => {
  const model = await Model.load(await makeModel('electra'), { numLabels: 2 });
  try {
    const result = await scan(model, {
      task: 'sst2',
      data: demoGlue,
      method: 'zero',
      each: 'head',
      layers: '0-1',
      seeds: [0],
      rows: 32,
      cacheDir: false,
    });
    t.is(result.rows.length, 2 * 2);
    t.true(result.rows.every((r) => r.n === 1 && r.mean !== null));
    t.deepEqual(
      result.rows.map((r) => r.target),
      ['layer 0 head 0', 'layer 0 head 1', 'layer 1 head 0', 'layer 1 head 1'],
    );
  } finally {
    model.dispose();
  }
});
