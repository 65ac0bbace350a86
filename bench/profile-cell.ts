/**
 * Where a fine-tuning cell's time goes (bench:cpu's cell, bert-base shapes, random weights): tokenization,
 * collation, each training step with its padded length, the evaluation, and the probe's feature pass, each
 * timed on its own. Prints one line per phase and writes bench/results/profile-cell.json.
 *
 *   node --import tsx bench/profile-cell.ts [--train 256] [--device cpu] [--dtype float32|bfloat16]
 */
import { join } from 'node:path';
import { collate, iterateBatches } from '../src/data/batches.js';
import { getTask } from '../src/data/tasks.js';
import { tokenizeSplit } from '../src/data/tokenize-split.js';
import { Model } from '../src/model/model.js';
import { packageRoot } from '../src/native/binding.js';
import { fixedSubset } from '../src/sweep/data.js';
import { outputs } from '../src/sweep/train.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { flag, provenance, writeResult } from './common.js';
import { bertBaseConfig } from './inputs.js';

const device = flag('device', 'cpu');
const train = Number(flag('train', '256'));
const dtype = flag('dtype', 'float32') as 'float32' | 'bfloat16';
const data = join(packageRoot, 'demo', 'data');
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const phases: Record<string, number> = {};
const time = async <T>(name: string, work: () => Promise<T> | T): Promise<T> => {
  const t0 = process.hrtime.bigint();
  const result = await work();
  phases[name] = (phases[name] ?? 0) + seconds(t0);
  return result;
};

const tokenizer = await loadTokenizer(join(packageRoot, 'test', 'fixtures', 'tokenizer', 'models', 'bert-base-uncased'));
const task = getTask('sst2');
const tokenized = await time('tokenize', async () => {
  const split = (s: string) => tokenizeSplit({ tokenizer, task, dataRoot: data, split: s, maxLength: 128, cacheDir: false });
  return { train: fixedSubset((await split('train')).dataset, train, 0), dev: (await split('dev')).dataset };
});
const model = await time('load', () => Model.fromConfig(bertBaseConfig(), { device, dtype, seed: 0 }));
await model.configureTraining({ lr: 2e-5, totalSteps: 1000 });
const steps: { tokens: number; padded: number; seconds: number }[] = [];
for (const batch of iterateBatches(tokenized.train, { batchSize: 32, seed: 0, epoch: 0 })) {
  const { indices: _, ...b } = batch;
  const t0 = process.hrtime.bigint();
  await model.trainStep(b);
  const s = seconds(t0);
  phases.train = (phases.train ?? 0) + s;
  const real = (b.attentionMask as Uint8Array).reduce((n, x) => n + x, 0);
  steps.push({ tokens: real, padded: b.batchSize * b.seqLen, seconds: s });
}
await time('evaluate (dev, length-ordered)', () => outputs(model, tokenized.dev, 128, 'logits'));
await time('probe features (train + dev)', async () => {
  await outputs(model, tokenized.train, 128, 'cls');
  await outputs(model, tokenized.dev, 128, 'cls');
});
// Collation alone, for the record: host-side work per batch.
await time('collate (all training batches)', () => {
  for (const batch of iterateBatches(tokenized.train, { batchSize: 32, seed: 0, epoch: 0 })) collate(tokenized.train, batch.indices);
});
model.dispose();
for (const [name, s] of Object.entries(phases)) console.log(`${name.padEnd(34)} ${s.toFixed(2)} s`);
const real = steps.reduce((n, s) => n + s.tokens, 0);
const padded = steps.reduce((n, s) => n + s.padded, 0);
console.log(`training: ${steps.length} steps, ${real} real tokens of ${padded} (${((100 * real) / padded).toFixed(0)}%)`);
console.error(
  `results: ${writeResult(`profile-cell-${dtype}`, { bench: 'profile-cell', ...provenance(device), dtype, train, phases, steps })}`,
);
