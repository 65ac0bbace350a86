/**
 * The real architectures: parameter counts from their official config.json files against the counts
 * transformers reports (BertModel bert-base-uncased 109,482,240; bert-large-uncased 335,141,888;
 * DistilBertModel 66,362,880; RobertaModel roberta-base 124,645,632), and a full-size round trip.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { engineConfig, type RawConfig } from '../../src/model/config.js';
import { inspectModel } from '../../src/model/inspect.js';
import { Model } from '../../src/model/model.js';
import { loadNative } from '../../src/native/binding.js';
import { tempDir } from '../helpers/checkpoints.js';
import { fixturesDir } from '../helpers/fixtures.js';

const config = (name: string): RawConfig => JSON.parse(readFileSync(join(fixturesDir, 'configs', `${name}.json`), 'utf8'));
const bertLarge = {
  ...config('bert-base-uncased'),
  hidden_size: 1024,
  num_hidden_layers: 24,
  num_attention_heads: 16,
  intermediate_size: 4096,
};

function count(raw: RawConfig, exclude: (name: string) => boolean = () => false): number {
  return loadNative()
    .parameterLayout(engineConfig(raw, 'config'))
    .filter((p) => !exclude(p.name))
    .reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

const head = (name: string) => /^(classifier|pre_classifier)\./.test(name);

test('bert-base-uncased: the encoder and pooler have 109,482,240 parameters, plus a 2-label classifier', (t) => {
  t.is(count(config('bert-base-uncased'), head), 109_482_240);
  t.is(count(config('bert-base-uncased')), 109_482_240 + 768 * 2 + 2);
});

test('bert-large-uncased: 335,141,888 parameters before the classifier', (t) => {
  t.is(count(bertLarge, head), 335_141_888);
});

test('distilbert-base-uncased: 66,362,880 parameters before pre_classifier and classifier', (t) => {
  t.is(count(config('distilbert-base-uncased'), head), 66_362_880);
});

test('roberta-base: 124,645,632 with the pooler its classifier replaces by a dense head', (t) => {
  // RobertaForSequenceClassification drops the 768x768 pooler and adds classifier.dense (same size) + out_proj.
  t.is(count(config('roberta-base'), head), 124_645_632 - 768 * 768 - 768);
  t.is(count(config('roberta-base')), 124_645_632 + 768 * 2 + 2);
});

test('a bert-base-size model saves and loads back (float16 on disk)', async (t) => {
  const model = await Model.fromConfig(config('bert-base-uncased'), { seed: 3 });
  const dir = tempDir();
  await model.save(dir, { dtype: 'float16' });
  const summary = await inspectModel(dir);
  t.is(summary.totalParameters, model.numParameters);
  t.deepEqual(summary.files[0]?.dtypes, ['F16']);
  const back = await Model.load(dir);
  const batch = { batchSize: 2, seqLen: 8, inputIds: Int32Array.from({ length: 16 }, (_, i) => 1000 + i) };
  const [a, b] = [await model.predict(batch), await back.predict(batch)];
  t.is(a.length, 4);
  for (let i = 0; i < 4; i++) t.true(Math.abs((a[i] as number) - (b[i] as number)) < 1e-2);
  model.dispose();
  back.dispose();
});
