import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Model } from '../../src/model/model.js';
import { copyModelDir, tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { maxAbsDiff, modelFixture } from '../helpers/fixtures.js';

const tinyBert = modelFixture('tiny-bert');

/** A fresh folder with the input and output paths of a predict run. */
function predictPaths() {
  const dir = tempDir();
  return { dir, input: join(dir, 'in.jsonl'), output: join(dir, 'out.jsonl') };
}

test('inspect shows the architecture and counts by layer', (t) => {
  // 67x32 + 40x32 + 2x32 + 64 (embeddings) + 2 x 6,789 (layers) + 1,056 (pooler) + 99 (classifier) = 18,285
  const r = runCli(['inspect', tinyBert]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /bert \(bert\): 2 layers, hidden 32, 4 heads, FFN 37/);
  t.regex(r.stdout, /parameters: 18,285/);
  t.regex(r.stdout, /layer 1 +6,789/);
  const json = JSON.parse(runCli(['inspect', tinyBert, '--json']).stdout);
  t.is(json.totalParameters, 18285);
});

test('inspect of a folder without weights fails with the reason', (t) => {
  const r = runCli(['inspect', tempDir()]);
  t.is(r.status, 1);
  t.regex(r.stderr, /error \[ERR_CHECKPOINT\]: .*no model\.safetensors/);
});

test('predict writes one line of logits per input, equal to the library', async (t) => {
  const { input, output } = predictPaths();
  const lines = [
    { input_ids: [2, 10, 11, 12, 3], token_type_ids: [0, 0, 0, 1, 1] },
    { input_ids: [2, 20, 3], attention_mask: [1, 1, 1] },
    { input_ids: [2, 30, 31, 32, 33, 34, 3] },
  ];
  writeFileSync(input, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n\n`);
  const r = runCli(['predict', tinyBert, '--input', input, '--output', output, '--batch-size', '2']);
  t.is(r.status, 0, r.stderr);
  const results = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.is(results.length, 3);
  const model = await Model.load(tinyBert);
  for (const [i, line] of lines.entries()) {
    const logits = await model.predict({
      batchSize: 1,
      seqLen: line.input_ids.length,
      inputIds: Int32Array.from(line.input_ids),
      ...(line.token_type_ids ? { tokenTypeIds: Int32Array.from(line.token_type_ids) } : {}),
    });
    t.true(maxAbsDiff(logits, results[i].logits) < 1e-5, `line ${i + 1}`);
    t.is(results[i].prediction, [...logits].indexOf(Math.max(...logits)));
  }
  model.dispose();
});

test('predict names the bad input line and leaves no partial output', (t) => {
  const { dir, input, output } = predictPaths();
  writeFileSync(input, '{"input_ids": [2, 3]}\n{"input_ids": [2, 500, 3]}\n');
  const r = runCli(['predict', tinyBert, '--input', input, '--output', output]);
  t.is(r.status, 1);
  t.regex(r.stderr, /ERR_DATA.*in\.jsonl:2: input_ids\[1\] = 500 is outside the vocabulary/);
  t.false(existsSync(output));
  t.false(existsSync(`${output}.partial`));
  writeFileSync(input, '{"input_ids": [2, 3]}\nnot json\n');
  t.regex(runCli(['predict', tinyBert, '--input', input, '--output', output]).stderr, /in\.jsonl:2: not valid JSON/);
  t.regex(
    runCli(['predict', tinyBert, '--input', join(dir, 'missing.jsonl'), '--output', output]).stderr,
    /ERR_IO.*missing\.jsonl: cannot read/,
  );
  t.is(runCli(['predict', tinyBert, '--input', input]).status, 2);
});

test('predict takes text lines, tokenized with the model folder tokenizer', async (t) => {
  const { dir, input, output } = predictPaths();
  writeFileSync(input, '{"text": "the cat"}\n{"text": "a dog", "text_pair": "the cat sat"}\n');
  // Without tokenizer files, a text line fails with its place and the reason.
  const missing = runCli(['predict', tinyBert, '--input', input, '--output', output]);
  t.is(missing.status, 1);
  t.regex(missing.stderr, /ERR_DATA.*in\.jsonl:1: a "text" input needs a tokenizer/);
  // A 67-token WordPiece vocabulary for the tiny model: [PAD] [UNK] [CLS] [SEP] [MASK], then words.
  const model = copyModelDir(tinyBert);
  const words = ['the', 'cat', 'a', 'dog', 'sat'];
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
  while (vocab.length < 67) vocab.push(`[unused${vocab.length}]`);
  writeFileSync(join(model, 'vocab.txt'), `${vocab.join('\n')}\n`);
  const r = runCli(['predict', model, '--input', input, '--output', output]);
  t.is(r.status, 0, r.stderr);
  const byText = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const ids = join(dir, 'ids.jsonl');
  writeFileSync(ids, '{"input_ids": [2, 5, 6, 3]}\n{"input_ids": [2, 7, 8, 3, 5, 6, 9, 3], "token_type_ids": [0, 0, 0, 0, 1, 1, 1, 1]}\n');
  t.is(runCli(['predict', model, '--input', ids, '--output', output]).status, 0);
  const byIds = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.deepEqual(byText, byIds);
});
