import { join } from 'node:path';
import test from 'ava';
import { batchOrder, collate, iterateBatches } from '../../src/data/batches.js';
import { exampleLength, type TokenizedDataset, tokenizeExamples } from '../../src/data/tokenized.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { fixtures } from './helpers.js';

const tokenizer = await loadTokenizer(join(fixtures, 'tokenizer', 'models', 'bert-base-uncased'));

/** n examples with lengths that vary; with `correlated`, short examples are all label 0 (as can happen in real data). */
function dataset(n: number, correlated = false): TokenizedDataset {
  const examples = Array.from({ length: n }, (_, i) => ({
    text: 'word '.repeat(1 + ((i * 7) % 40)),
    ...(i % 2 ? { textPair: 'other' } : {}),
    label: correlated && (i * 7) % 40 < 10 ? 0 : (i * 13) % 3,
  }));
  return tokenizeExamples(tokenizer, examples, { maxLength: 32 });
}

test('collate: row-major arrays, padding with the pad id, mask and segments', (t) => {
  const ds = tokenizeExamples(
    tokenizer,
    [
      { text: 'hello world', label: 1 },
      { text: 'hi', textPair: 'there', label: 0 },
    ],
    { maxLength: 16 },
  );
  const batch = collate(ds, Int32Array.from([0, 1]));
  t.is(batch.batchSize, 2);
  t.is(batch.seqLen, 5);
  t.deepEqual(Array.from(batch.inputIds), [101, 7592, 2088, 102, 0, 101, 7632, 102, 2045, 102]);
  t.deepEqual(Array.from(batch.attentionMask), [1, 1, 1, 1, 0, 1, 1, 1, 1, 1]);
  t.deepEqual(Array.from(batch.tokenTypeIds), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  t.deepEqual(Array.from(batch.labels as Int32Array), [1, 0]);
  t.true(batch.labels instanceof Int32Array);
  const fixed = collate(ds, Int32Array.from([0, 1]), { fixedLength: 8 });
  t.is(fixed.inputIds.length, 16);
  t.is(collate(ds, Int32Array.from([0]), { padToMultipleOf: 8 }).seqLen, 8);
  const regression = tokenizeExamples(tokenizer, [{ text: 'a', label: 2.5 }], { maxLength: 8, isRegression: true });
  t.true(collate(regression, Int32Array.from([0])).labels instanceof Float32Array);
});

test('every example appears exactly once per epoch; the same seed gives the same bytes, another seed or epoch another order', (t) => {
  const ds = dataset(203);
  for (const options of [{ batchSize: 16 }, { batchSize: 16, bucketing: { bucketBatches: 4 } }]) {
    const order = batchOrder(ds, { ...options, seed: 7 });
    const seen = order.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    t.deepEqual(
      seen,
      Array.from({ length: 203 }, (_, i) => i),
    );
    t.deepEqual(batchOrder(ds, { ...options, seed: 7 }), order);
    t.notDeepEqual(batchOrder(ds, { ...options, seed: 8 }), order);
    t.notDeepEqual(batchOrder(ds, { ...options, seed: 7, epoch: 1 }), order);
    const a = [...iterateBatches(ds, { ...options, seed: 7 })];
    const b = [...iterateBatches(ds, { ...options, seed: 7 })];
    t.deepEqual(a, b);
  }
  t.is(batchOrder(ds, { batchSize: 16, dropLast: true }).length, 12);
  t.deepEqual(Array.from(batchOrder(ds, { batchSize: 5, shuffle: false })[0] as Int32Array), [0, 1, 2, 3, 4]);
});

test('bucketing cuts padding and keeps each batch near the label distribution', (t) => {
  const independent = dataset(2000);
  const padding = (ds: TokenizedDataset, batches: Int32Array[]) =>
    batches.reduce((sum, b) => {
      const lengths = Array.from(b, (i) => exampleLength(ds, i));
      return sum + Math.max(...lengths) * b.length - lengths.reduce((x, y) => x + y, 0);
    }, 0);
  const plain = batchOrder(independent, { batchSize: 32, seed: 1 });
  const sorted = batchOrder(independent, { batchSize: 32, seed: 1, bucketing: true });
  t.true(
    padding(independent, sorted) < padding(independent, plain) / 4,
    `padding ${padding(independent, sorted)} vs ${padding(independent, plain)}`,
  );
  const ds = dataset(2000, true);
  const bucketed = batchOrder(ds, { batchSize: 32, seed: 1, bucketing: true });
  t.true(padding(ds, bucketed) < padding(ds, batchOrder(ds, { batchSize: 32, seed: 1 })));
  const labels = ds.labels as Int32Array;
  const share = (indices: ArrayLike<number>, c: number) => Array.from(indices).filter((i) => labels[i] === c).length / indices.length;
  const all = Int32Array.from({ length: ds.size }, (_, i) => i);
  let worst = 0;
  for (const batch of bucketed.filter((b) => b.length === 32)) {
    for (const c of [0, 1, 2]) worst = Math.max(worst, Math.abs(share(batch, c) - share(all, c)));
  }
  // Sorting by length alone would put the short (label 0) examples together: a share off by about 0.7.
  t.true(worst < 0.15, `largest label-share deviation in a batch: ${worst.toFixed(3)}`);
});

test('bad options are ERR_ARGUMENT', (t) => {
  const ds = dataset(10);
  t.throws(() => batchOrder(ds, { batchSize: 0 }), { code: 'ERR_ARGUMENT' });
  t.throws(() => batchOrder(ds, { batchSize: 2, fixedLength: 3 }), { code: 'ERR_ARGUMENT' });
});
