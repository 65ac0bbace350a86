import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { tokenizeSplit } from '../../src/data/tokenize-split.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { fixtures, tempTree } from './helpers.js';

const models = join(fixtures, 'tokenizer', 'models');
const header = 'index\tsentence1\tsentence2\tlabel\n';

test('tokenizeSplit caches by content: a second call reads the cache; a changed file, tokenizer or max length does not', async (t) => {
  const root = tempTree({
    'RTE/dev.tsv': `${header}0\tA man sleeps.\tSomeone rests.\tentailment\n1\tIt rains.\tIt is dry.\tnot_entailment\n`,
  });
  const cacheDir = join(root, 'cache');
  const bert = await loadTokenizer(join(models, 'bert-base-uncased'));
  const options = { tokenizer: bert, task: 'rte', dataRoot: root, split: 'dev', maxLength: 32, cacheDir };
  const first = await tokenizeSplit(options);
  t.false(first.cached);
  const second = await tokenizeSplit(options);
  t.true(second.cached);
  t.deepEqual(second.dataset, first.dataset);
  t.deepEqual(Array.from(second.dataset.labels as Int32Array), [0, 1]);
  t.false((await tokenizeSplit({ ...options, maxLength: 8 })).cached);
  t.false((await tokenizeSplit({ ...options, tokenizer: await loadTokenizer(join(models, 'roberta-base')) })).cached);
  appendFileSync(join(root, 'RTE', 'dev.tsv'), '2\tNew.\tRow.\tentailment\n');
  const changed = await tokenizeSplit(options);
  t.false(changed.cached);
  t.is(changed.dataset.size, 3);
  t.false((await tokenizeSplit({ ...options, cacheDir: false })).cached);
});

test('a damaged cache entry is rebuilt, and skipped rows are remembered with the entry', async (t) => {
  const root = tempTree({ 'RTE/dev.tsv': `${header}0\ta\tb\tentailment\n1\tbroken\n` });
  const cacheDir = join(root, 'cache');
  const bert = await loadTokenizer(join(models, 'bert-base-uncased'));
  const options = { tokenizer: bert, task: 'rte', dataRoot: root, split: 'dev', maxLength: 16, cacheDir, onMalformed: 'skip' as const };
  const first = await tokenizeSplit(options);
  t.is(first.skipped.length, 1);
  const cached = await tokenizeSplit(options);
  t.true(cached.cached);
  t.deepEqual(cached.skipped, first.skipped);
  for (const f of readdirSync(cacheDir)) writeFileSync(join(cacheDir, f), 'garbage');
  const rebuilt = await tokenizeSplit(options);
  t.false(rebuilt.cached);
  t.deepEqual(rebuilt.dataset, first.dataset);
});

test('regression targets are cached as float32', async (t) => {
  const root = tempTree({
    'STS-B/dev.tsv':
      'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\to\ts\ts\ta\tb\t3.8\n',
  });
  const bert = await loadTokenizer(join(models, 'bert-base-uncased'));
  const options = { tokenizer: bert, task: 'stsb', dataRoot: root, split: 'dev', maxLength: 16, cacheDir: join(root, 'c') };
  await tokenizeSplit(options);
  const cached = await tokenizeSplit(options);
  t.true(cached.cached);
  t.true(cached.dataset.labels instanceof Float32Array);
  t.is(cached.dataset.labels?.[0], Math.fround(3.8));
});
