/**
 * Makes test/fixtures/models/tiny-bert-sst2: a 3-layer BERT (hidden 32) with a 400-token vocabulary (the
 * most frequent bert-base-uncased WordPiece tokens of the demo's SST-2 training rows, plus the five
 * specials), fine-tuned for 3 epochs on those 5,000 rows, saved with its SST-2 head. Small enough to
 * commit (about 120 KB), trained enough that corrupting a layer moves its dev accuracy.
 *
 *   node --import tsx test/scan/make-fixture.ts
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTask } from '../../src/data/tasks.js';
import { tokenizeSplit } from '../../src/data/tokenize-split.js';
import { Model } from '../../src/model/model.js';
import { packageRoot } from '../../src/native/binding.js';
import { DEFAULT_RECIPE } from '../../src/sweep/spec.js';
import { evaluate, fineTune } from '../../src/sweep/train.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { tempDir } from '../helpers/checkpoints.js';

const out = join(packageRoot, 'test', 'fixtures', 'models', 'tiny-bert-sst2');
const demo = join(packageRoot, 'demo', 'data');
const source = join(packageRoot, 'test', 'fixtures', 'tokenizer', 'models', 'bert-base-uncased');
const VOCAB = 400;
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

// 1. The vocabulary: the most frequent tokens of the training rows under bert-base-uncased.
const full = await loadTokenizer(source);
const train = await tokenizeSplit({ tokenizer: full, task: 'sst2', dataRoot: demo, split: 'train', maxLength: 64, cacheDir: false });
const counts = new Map<number, number>();
for (const id of train.dataset.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
const words = readFileSync(join(source, 'vocab.txt'), 'utf8').split('\n');
const frequent = [...counts.entries()]
  .filter(([id]) => !SPECIALS.includes(words[id] as string))
  .sort((a, b) => b[1] - a[1] || a[0] - b[0])
  .slice(0, VOCAB - SPECIALS.length)
  .map(([id]) => words[id] as string);
const staging = join(tempDir('healbert-fixture-'), 'tokenizer');
mkdirSync(staging, { recursive: true });
writeFileSync(join(staging, 'vocab.txt'), `${[...SPECIALS, ...frequent].join('\n')}\n`);
copyFileSync(join(source, 'tokenizer_config.json'), join(staging, 'tokenizer_config.json'));

// 2. The model, fine-tuned on the demo's training rows with the small vocabulary.
const tokenizer = await loadTokenizer(staging);
const task = getTask('sst2');
const load = async (split: string) =>
  (await tokenizeSplit({ tokenizer, task, dataRoot: demo, split, maxLength: 48, cacheDir: false })).dataset;
const [trainSet, devSet] = [await load('train'), await load('dev')];
const model = await Model.fromConfig(
  {
    model_type: 'bert',
    vocab_size: VOCAB,
    hidden_size: 32,
    num_hidden_layers: 3,
    num_attention_heads: 2,
    intermediate_size: 48,
    max_position_embeddings: 64,
    type_vocab_size: 2,
    num_labels: 2,
  },
  { seed: 11 },
);
const before = await evaluate(model, task, devSet, 256);
const recipe = { ...DEFAULT_RECIPE, lr: 1e-3, batchSize: 32, maxLength: 48, evalBatchSize: 256 };
const { epochs } = await fineTune(model, task, trainSet, devSet, { recipe, epochs: 3, seed: 0 });
mkdirSync(out, { recursive: true });
await model.save(out, { labels: ['negative', 'positive'] });
for (const f of ['vocab.txt', 'tokenizer_config.json']) copyFileSync(join(staging, f), join(out, f));
model.dispose();
console.log(
  JSON.stringify({ devAccuracyBefore: before.accuracy, epochs: epochs.map((e) => ({ epoch: e.epoch, loss: e.trainLoss, ...e.metrics })) }),
);
