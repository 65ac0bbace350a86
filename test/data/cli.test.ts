import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { runCli } from '../helpers/cli.js';
import { fixtures, tempTree } from './helpers.js';

const bert = join(fixtures, 'tokenizer', 'models', 'bert-base-uncased');
const glue = join(fixtures, 'glue');

test('healbert tokenize --task writes one JSON line per example, then reads the cache', (t) => {
  const out = tempTree({});
  const args = [
    'tokenize',
    bert,
    '--task',
    'rte',
    '--data',
    glue,
    '--split',
    'dev',
    '--max-length',
    '32',
    '--cache-dir',
    join(out, 'cache'),
  ];
  const first = runCli([...args, '--output', join(out, 'rte.jsonl')]);
  t.is(first.status, 0, first.stderr);
  t.regex(first.stderr, /rte dev: 12 examples from .*; 0 rows skipped/);
  const lines = readFileSync(join(out, 'rte.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.is(lines.length, 12);
  t.deepEqual(Object.keys(lines[0]), ['input_ids', 'token_type_ids', 'attention_mask', 'label']);
  t.true(lines.every((l) => l.input_ids.length <= 32 && l.input_ids[0] === 101 && l.attention_mask.length === l.input_ids.length));
  const second = runCli(args);
  t.is(second.status, 0, second.stderr);
  t.regex(second.stderr, /\(from cache\)/);
  t.is(second.stdout.trim().split('\n').length, 12);
});

test('healbert tokenize --input reads text and text_pair lines', (t) => {
  const dir = tempTree({ 'in.jsonl': '{"text": "hello world"}\n{"text": "a", "text_pair": "b", "label": 1}\n' });
  const result = runCli(['tokenize', bert, '--input', join(dir, 'in.jsonl')]);
  t.is(result.status, 0, result.stderr);
  const lines = result.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.deepEqual(lines[0], { input_ids: [101, 7592, 2088, 102], token_type_ids: [0, 0, 0, 0], attention_mask: [1, 1, 1, 1] });
  t.deepEqual(lines[1].token_type_ids, [0, 0, 0, 1, 1]);
});

test('healbert tokenize: usage and data errors', (t) => {
  t.is(runCli(['tokenize', bert]).status, 2);
  t.is(runCli(['tokenize', bert, '--task', 'rte']).status, 2);
  t.is(runCli(['tokenize', bert, '--input', 'x.jsonl', '--truncation', 'middle']).status, 2);
  const bad = tempTree({ 'RTE/dev.tsv': 'index\tsentence1\tsentence2\tlabel\n0\tonly\n' });
  const result = runCli(['tokenize', bert, '--task', 'rte', '--data', bad, '--no-cache']);
  t.is(result.status, 1);
  t.regex(result.stderr, /error \[ERR_DATA\]: .*dev\.tsv:2: expected 4 tab-separated fields, found 2/);
});

test('healbert data shows splits, counts, label distribution and lengths; missing splits are reported', (t) => {
  const result = runCli(['data', 'mnli', '--data', glue, '--tokenizer', bert]);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stdout, /^mnli: 3 classes \(entailment, neutral, contradiction\); metrics accuracy/);
  t.regex(result.stdout, /dev_matched: 10 examples/);
  t.regex(result.stdout, /labels: entailment 1 \(10\.0%\), neutral 3 \(30\.0%\), contradiction 6 \(60\.0%\)/);
  t.regex(result.stdout, /length \(tokens\): p50 \d+/);
  const json = JSON.parse(runCli(['data', 'rte', '--data', tempTree({}), '--json']).stdout);
  t.is(json.splits[0].error.code, 'ERR_IO');
  t.is(runCli(['data', 'nope', '--data', glue]).status, 1);
});
