/**
 * Encodings established without running healbert: published ones ("hello world" for bert-base-uncased,
 * "Hello world" for roberta-base) and cases derived by hand from the vocabulary files and the documented
 * algorithms (ids looked up line by line in vocab.txt / vocab.json).
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { models } from './helpers.js';

const bertVocab = readFileSync(join(models, 'bert-base-uncased', 'vocab.txt'), 'utf8').split('\n');
const id = (token: string) => {
  const i = bertVocab.indexOf(token);
  if (i < 0) throw new Error(`${token} not in vocab.txt`);
  return i;
};
const robertaVocab = JSON.parse(readFileSync(join(models, 'roberta-base', 'vocab.json'), 'utf8')) as Record<string, number>;

const bert = await loadTokenizer(join(models, 'bert-base-uncased'));
const roberta = await loadTokenizer(join(models, 'roberta-base'));

test('published: bert-base-uncased "hello world" is 101 7592 2088 102', (t) => {
  t.deepEqual(bert.encode('hello world'), { inputIds: [101, 7592, 2088, 102], tokenTypeIds: [0, 0, 0, 0] });
});

test('published: roberta-base "Hello world" is 0 31414 232 2', (t) => {
  t.deepEqual(roberta.encode('Hello world').inputIds, [0, 31414, 232, 2]);
});

test('hand-derived BERT: lower-casing, accents, punctuation split, pairs and segments', (t) => {
  // "Héllo, WORLD!" -> lower-case and strip the accent -> hello , world !
  t.deepEqual(bert.encode('Héllo, WORLD!').inputIds, [id('[CLS]'), id('hello'), id(','), id('world'), id('!'), id('[SEP]')]);
  const pair = bert.encode('Café', 'naïve');
  t.deepEqual(pair.inputIds, [id('[CLS]'), id('cafe'), id('[SEP]'), id('naive'), id('[SEP]')]);
  t.deepEqual(pair.tokenTypeIds, [0, 0, 0, 1, 1]);
});

test('hand-derived BERT: empty strings, whitespace only, control characters', (t) => {
  t.deepEqual(bert.encode('').inputIds, [101, 102]);
  t.deepEqual(bert.encode(' \t\n ').inputIds, [101, 102]);
  t.deepEqual(bert.encode('', '').inputIds, [101, 102, 102]);
  t.deepEqual(bert.encode('', '').tokenTypeIds, [0, 0, 1]);
  // NUL, zero-width space and soft hyphen are removed, joining the letters into one word.
  t.deepEqual(bert.tokenize('a\u0000b a\u200bb a\u00adb'), [id('ab'), id('ab'), id('ab')]);
});

test('hand-derived BERT: CJK ideographs become single-character words; a word over 100 characters is [UNK]', (t) => {
  t.deepEqual(bert.tokenize('中文'), [id('中'), id('文')]);
  t.deepEqual(bert.tokenize('a'.repeat(101)), [id('[UNK]')]);
  // Greedy longest match: "aaa" then "##aa" pieces.
  const hundred = bert.tokenize('a'.repeat(100));
  t.is(hundred[0], id('aaa'));
  t.is(hundred.length, 50);
});

test('hand-derived BERT: special tokens written in the text are recognised', (t) => {
  t.deepEqual(bert.tokenize('hello [MASK] world'), [id('hello'), 103, id('world')]);
});

test('hand-derived RoBERTa: byte-level pieces, the pair template, <mask> keeping its left space', (t) => {
  const g = (piece: string) => robertaVocab[piece] as number;
  t.deepEqual(roberta.encode('Hello', 'world').inputIds, [0, g('Hello'), 2, 2, g('world'), 2]);
  t.deepEqual(roberta.encode('Hello', 'world').tokenTypeIds, [0, 0, 0, 0, 0, 0]);
  // From vocab.json + merges.txt alone, <mask> is a plain special token (transformers 5): the space before
  // it is a piece of its own.
  t.deepEqual(roberta.tokenize('Hello <mask>'), [g('Hello'), g('\u0120'), 50264]);
  t.deepEqual(roberta.encode('').inputIds, [0, 2]);
});

test('RoBERTa <mask> absorbs its left space where tokenizer_config.json gives it lstrip (both ways transformers saves it)', async (t) => {
  const g = (piece: string) => robertaVocab[piece] as number;
  const configs = [
    {
      added_tokens_decoder: {
        '50264': { content: '<mask>', lstrip: true, normalized: false, rstrip: false, single_word: false, special: true },
      },
    },
    { mask_token: { __type: 'AddedToken', content: '<mask>', lstrip: true, normalized: true, rstrip: false, single_word: false } },
  ];
  for (const config of configs) {
    const dir = mkdtempSync(join(tmpdir(), 'healbert-roberta-'));
    for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(models, 'roberta-base', f), join(dir, f));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    const tokenizer = await loadTokenizer(dir);
    t.deepEqual(tokenizer.tokenize('Hello <mask>'), [g('Hello'), 50264], JSON.stringify(config));
  }
});

test('truncation keeps the special tokens and respects maxLength', (t) => {
  const long = 'word '.repeat(50);
  const single = bert.encode(long, undefined, { maxLength: 10 });
  t.is(single.inputIds.length, 10);
  t.is(single.inputIds.at(-1), 102);
  const pair = bert.encode(long, 'short', { maxLength: 10 });
  t.deepEqual(pair.inputIds, [101, ...new Array(6).fill(id('word')), 102, id('short'), 102]);
  t.throws(() => bert.encode('x', 'y', { maxLength: 2 }), { code: 'ERR_ARGUMENT' });
});
