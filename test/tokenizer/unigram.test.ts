/**
 * The Unigram model and tokenizers without a reference library: Viterbi cases worked by hand (the example
 * of Hugging Face's Unigram documentation among them), each family's special-token layout, truncation,
 * the spec hash, the errors for what healbert does not read, and `healbert tokenize` on a Unigram folder.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { HealbertError } from '../../src/errors.js';
import { specialIds } from '../../src/pretrain/pack.js';
import { hasTokenizerFiles, TOKENIZER_FILES } from '../../src/tokenizer/files.js';
import { loadTokenizer, loadTokenizerSpec } from '../../src/tokenizer/load.js';
import { parseSentencePieceModel } from '../../src/tokenizer/sentencepiece-model.js';
import { Unigram } from '../../src/tokenizer/unigram.js';
import { runCli } from '../helpers/cli.js';
import { models } from './helpers.js';
import { unigramFixture } from './unigram-fixtures.js';

function ids(model: Unigram, word: string): number[] {
  const out: number[] = [];
  model.tokenize(word, out);
  return out;
}

test('Viterbi: the highest-scoring split, adjacent unknown characters fused into one unknown token', (t) => {
  // Hugging Face's documented example: "abcdacdxx" -> abcd, a, cd, xx (xx unknown).
  const pieces: [string, number][] = [
    ['<unk>', 0],
    ['a', 0],
    ['b', 0],
    ['c', 0],
    ['d', 0],
    ['cd', 1],
    ['ab', 2],
    ['abc', 5],
    ['abcd', 10],
  ];
  t.deepEqual(ids(new Unigram(pieces, { unkId: 0, byteFallback: false }), 'abcdacdxx'), [8, 1, 5, 0]);
});

test('Viterbi: of two splits with equal scores, the one found first (earliest start) wins', (t) => {
  const pieces: [string, number][] = [
    ['<unk>', 0],
    ['a', -1],
    ['b', -1],
    ['ab', -2],
  ];
  // a + b and ab both score -2: ab ends at 2 first (from start 0), and b (from start 1) is not better.
  t.deepEqual(ids(new Unigram(pieces, { unkId: 0, byteFallback: false }), 'ab'), [3]);
});

test('byte fallback: an unknown token becomes its UTF-8 bytes where every byte piece exists, else the unknown id', (t) => {
  const pieces: [string, number][] = [
    ['<unk>', 0],
    ['<0xC3>', -5],
    ['<0xA9>', -5],
    ['a', -1],
  ];
  t.deepEqual(ids(new Unigram(pieces, { unkId: 0, byteFallback: true }), 'aé'), [3, 1, 2]);
  t.deepEqual(ids(new Unigram(pieces, { unkId: 0, byteFallback: true }), 'aè'), [3, 0], 'è is C3 A8: <0xA8> is missing');
  t.deepEqual(ids(new Unigram(pieces, { unkId: 0, byteFallback: false }), 'aé'), [3, 0]);
});

test('an unknown character without an unknown id, or an unknown id outside the vocabulary, is ERR_DATA', (t) => {
  const pieces: [string, number][] = [['a', -1]];
  const error = t.throws(() => ids(new Unigram(pieces, { unkId: null, byteFallback: false }), 'ab'), { instanceOf: HealbertError });
  t.is(error?.code, 'ERR_DATA');
  t.is(t.throws(() => new Unigram(pieces, { unkId: 5, byteFallback: false }), { instanceOf: HealbertError })?.code, 'ERR_DATA');
});

test('special-token layouts: XLM-R <s> A </s></s> B </s> (types all 0), ALBERT and DeBERTa [CLS] A [SEP] B [SEP] (types 0/1)', async (t) => {
  const xlmr = await loadTokenizer(unigramFixture('xlm-roberta'));
  const pair = xlmr.encode('hello', 'world');
  t.deepEqual([pair.inputIds[0], pair.inputIds.at(-1)], [0, 2]);
  t.is(pair.inputIds.filter((id) => id === 2).length, 3);
  t.true(pair.tokenTypeIds.every((x) => x === 0));
  t.like(specialIds(xlmr), { cls: 0, sep: 2, pad: 1, mask: 1001, vocabSize: 1002 });

  const albert = await loadTokenizer(unigramFixture('albert'));
  const a = albert.encode('hello', 'world');
  t.deepEqual([a.inputIds[0], a.inputIds.at(-1)], [2, 3]);
  const firstSep = a.inputIds.indexOf(3);
  t.deepEqual(
    a.tokenTypeIds,
    a.inputIds.map((_, i) => (i <= firstSep ? 0 : 1)),
  );
  t.like(specialIds(albert), { cls: 2, sep: 3, pad: 0, mask: 4 });
  t.is(albert.spec.model.type === 'Unigram' && albert.spec.model.unkId, 1);

  const deberta = await loadTokenizer(unigramFixture('deberta-v3'));
  const d = deberta.encode('hello', 'world');
  t.deepEqual([d.inputIds[0], d.inputIds.at(-1)], [1, 2]);
  t.is(d.tokenTypeIds.at(-1), 1);
  t.like(specialIds(deberta), { cls: 1, sep: 2, pad: 0, mask: 1000, vocabSize: 1001 });
  t.is(deberta.spec.transformersClass, 'DebertaV2Tokenizer');
});

test('truncation, maxLength and addSpecialTokens work for Unigram as for the other models', async (t) => {
  const tok = await loadTokenizer(unigramFixture('albert'));
  const long = 'the quick brown fox jumps over the lazy dog '.repeat(20);
  const a = tok.encode(long, 'a short one', { maxLength: 32 });
  t.is(a.inputIds.length, 32);
  t.is(tok.encode(long, 'short', { maxLength: 16, truncation: 'only_first' }).inputIds.length, 16);
  t.is(tok.encode(long, undefined, { addSpecialTokens: false }).inputIds.length, tok.tokenize(long).length);
  t.is(
    t.throws(() => tok.encode(long, undefined, { maxLength: 16, truncation: 'only_second' }), { instanceOf: HealbertError })?.code,
    'ERR_ARGUMENT',
  );
  t.is(t.throws(() => tok.encode(long, 'b', { maxLength: 2 }), { instanceOf: HealbertError })?.code, 'ERR_ARGUMENT');
});

test('the spec hash: a new kind, stable across loads, different where the pipeline differs; WordPiece and BPE hashes unchanged', async (t) => {
  const hub = await loadTokenizerSpec(unigramFixture('xlm-roberta-hub'));
  const raw = await loadTokenizerSpec(unigramFixture('xlm-roberta-raw'));
  t.is(hub.kind, 'unigram');
  t.is(hub.hash, (await loadTokenizerSpec(unigramFixture('xlm-roberta-hub'))).hash);
  t.not(hub.hash, raw.hash, 'the same tokenizer.json through XLMRobertaTokenizer and as written');
  const rescored = {
    ...hub,
    model: { ...hub.model, scores: (hub.model as { scores: number[] }).scores.map((s, i) => (i === 500 ? s - 1 : s)) },
  };
  const { hashSpec } = await import('../../src/tokenizer/spec.js');
  t.not(hashSpec(rescored), hub.hash, 'scores are hashed');
  // Cached datasets and sweep fingerprints of existing tokenizers stay valid (the hashes before Unigram).
  t.is(
    (await loadTokenizerSpec(join(models, 'bert-base-uncased'))).hash,
    '544c971579172ca8668b5add75d44d00f603f41ee699f1a7c5b3f5055b6301f7',
  );
  t.is((await loadTokenizerSpec(join(models, 'roberta-base'))).hash, '4434fcc883a357a30008ddd5fed85b4a242873f1b108dab0eaedbe2c59304a30');
});

/** A copy of a fixture folder with its tokenizer.json (and files) changed. */
async function variant(name: string, edit: (json: Record<string, unknown>) => void, files: Record<string, string> = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-unigram-bad-'));
  await cp(unigramFixture(name), dir, { recursive: true });
  const path = join(dir, 'tokenizer.json');
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(path, JSON.stringify(json));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

async function dataError(t: import('ava').ExecutionContext, dir: string, field: string): Promise<void> {
  const error = await t.throwsAsync(loadTokenizer(dir), { instanceOf: HealbertError });
  t.is(error?.code, 'ERR_DATA');
  // The message names the file and the field (data, not wording).
  t.true(error?.message.includes(join(dir, 'tokenizer.json')) && error.message.includes(field), error?.message);
}

test('a tokenizer.json with an unknown normalizer, pre-tokenizer, model type or Metaspace setting is ERR_DATA naming file and field', async (t) => {
  const raw = 'generic-first';
  await dataError(
    t,
    await variant(raw, (j) => (((j.normalizer as { normalizers: unknown[] }).normalizers[1] as { type: string }).type = 'Nmt')),
    'normalizer.normalizers[1]',
  );
  await dataError(
    t,
    await variant(raw, (j) => (j.pre_tokenizer = { type: 'Split', pattern: { String: ' ' }, behavior: 'Removed' })),
    'pre_tokenizer',
  );
  await dataError(t, await variant(raw, (j) => (j.model = { ...(j.model as object), type: 'WordLevel' })), 'model.type');
  await dataError(
    t,
    await variant(raw, (j) => (j.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', add_prefix_space: false })),
    'pre_tokenizer',
  );
  await dataError(t, await variant(raw, (j) => (j.normalizer = { type: 'Replace', pattern: { Regex: 'a++' }, content: '' })), 'normalizer');
  await dataError(t, await variant(raw, (j) => (j.normalizer = { type: 'Precompiled', precompiled_charsmap: 'AAAA' })), 'normalizer');
});

test('a class with its own Unigram pipeline that healbert does not know, and a .model without a known class, are ERR_DATA', async (t) => {
  const t5 = await variant('generic-first', () => {}, { 'tokenizer_config.json': '{"tokenizer_class": "T5Tokenizer"}' });
  t.is((await t.throwsAsync(loadTokenizer(t5), { instanceOf: HealbertError }))?.code, 'ERR_DATA');
  const byModelType = await variant('generic-first', () => {}, { 'tokenizer_config.json': '{}', 'config.json': '{"model_type": "t5"}' });
  t.is((await t.throwsAsync(loadTokenizer(byModelType), { instanceOf: HealbertError }))?.code, 'ERR_DATA');
  const dir = mkdtempSync(join(tmpdir(), 'healbert-unigram-spm-'));
  await cp(join(unigramFixture('deberta-v3-spm'), 'spm.model'), join(dir, 'spm.model'));
  t.is((await t.throwsAsync(loadTokenizer(dir), { instanceOf: HealbertError }))?.code, 'ERR_DATA', 'no class says how to convert it');
  t.is((await t.throwsAsync(loadTokenizer(mkdtempSync(join(tmpdir(), 'healbert-empty-'))), { instanceOf: HealbertError }))?.code, 'ERR_IO');
});

test('SentencePiece model files: pieces, unknown id and charsmap read; a truncated file is ERR_DATA', (t) => {
  const bytes = readFileSync(join(unigramFixture('albert-spm'), 'spiece.model'));
  const model = parseSentencePieceModel(bytes, 'spiece.model');
  t.is(model.pieces.length, 1000);
  t.deepEqual(
    model.pieces.slice(0, 5).map((p) => [p.piece, p.type]),
    [
      ['<pad>', 3],
      ['<unk>', 2],
      ['[CLS]', 3],
      ['[SEP]', 3],
      ['[MASK]', 4],
    ],
  );
  t.like(model, { unkId: 1, modelType: 1, byteFallback: false });
  t.true((model.charsmap?.length ?? 0) > 100_000);
  const truncated = bytes.subarray(0, 200);
  t.is(t.throws(() => parseSentencePieceModel(truncated, 'spiece.model'), { instanceOf: HealbertError })?.code, 'ERR_DATA');
});

test('healbert tokenize reads a Unigram folder (DeBERTa-v3 from spm.model alone)', (t) => {
  // Sweeps and scans check for, copy and fingerprint the same files.
  t.true(hasTokenizerFiles(unigramFixture('deberta-v3-spm')));
  t.true(TOKENIZER_FILES.includes('spm.model') && TOKENIZER_FILES.includes('config.json') === false);
  const dir = mkdtempSync(join(tmpdir(), 'healbert-unigram-cli-'));
  writeFileSync(join(dir, 'in.jsonl'), '{"text": "hello world"}\n{"text": "a", "text_pair": "b"}\n');
  const result = runCli(['tokenize', unigramFixture('deberta-v3-spm'), '--input', join(dir, 'in.jsonl')]);
  t.is(result.status, 0, result.stderr);
  const lines = result.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { input_ids: number[]; token_type_ids: number[] });
  t.is(lines.length, 2);
  t.deepEqual([lines[0]?.input_ids[0], lines[0]?.input_ids.at(-1)], [1, 2]);
  t.is(lines[1]?.token_type_ids.at(-1), 1);
  const bad = runCli(['tokenize', join(dir, 'nothing-here'), '--input', join(dir, 'in.jsonl')]);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /\[ERR_IO\]/);
});
