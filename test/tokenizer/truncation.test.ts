import { join } from 'node:path';
import test from 'ava';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { truncatedLengths } from '../../src/tokenizer/post-process.js';
import { loadHf, models } from './helpers.js';

const hf = await loadHf();

test('longest_first splits the budget as Hugging Face tokenizers does (its own unit-test table, max 7)', (t) => {
  const lengths = { empty: 0, short: 2, medium: 4, long: 8 };
  const expected: [keyof typeof lengths, keyof typeof lengths, number, number][] = [
    ['empty', 'empty', 0, 0],
    ['empty', 'long', 0, 7],
    ['short', 'long', 2, 5],
    ['medium', 'medium', 3, 4],
    ['medium', 'long', 3, 4],
    ['long', 'short', 5, 2],
    ['long', 'medium', 4, 3],
    ['long', 'long', 3, 4],
    ['long', 'empty', 7, 0],
  ];
  for (const [a, b, n1, n2] of expected) t.deepEqual(truncatedLengths(lengths[a], lengths[b], 7, 'longest_first'), [n1, n2], `${a} ${b}`);
  t.deepEqual(truncatedLengths(8, 8, 0, 'longest_first'), [0, 0]);
});

test('added tokens are counted but never stop tokenization at maxLength: only a word does (as Hugging Face)', async (t) => {
  const bert = await loadTokenizer(join(models, 'bert-base-uncased'));
  // Budget 5: the first sequence holds all nine [MASK]s (longer than the second, cut at its 8th word), so
  // it keeps the odd token: 3 + 2. Stopping at the 8th [MASK] would have made them equal, giving 2 + 3.
  t.deepEqual(bert.encode('[MASK]'.repeat(9), 'a '.repeat(8), { maxLength: 8 }).inputIds, [101, 103, 103, 103, 102, 1037, 1037, 102]);
  // After a run of added tokens past the limit, the next word still goes in before it stops.
  t.deepEqual(bert.tokenize(`${'[MASK]'.repeat(9)} a b c`, 5), [...new Array(9).fill(103), 1037]);
  t.deepEqual(bert.tokenize('[MASK] a '.repeat(9), 5), [103, 1037, 103, 1037, 103, 1037]);
});

test('only_first and only_second cut one side, and fail when it is too short', (t) => {
  t.deepEqual(truncatedLengths(10, 4, 8, 'only_first'), [4, 4]);
  t.deepEqual(truncatedLengths(4, 10, 8, 'only_second'), [4, 4]);
  t.throws(() => truncatedLengths(2, 10, 8, 'only_first'), { code: 'ERR_ARGUMENT' });
  t.throws(() => truncatedLengths(10, undefined, 8, 'only_second'), { code: 'ERR_ARGUMENT' });
});

(hf ? test : test.skip)('pairs of every length up to 20 truncate like Hugging Face, at odd and even budgets', async (t) => {
  const reference = (hf as NonNullable<typeof hf>).Tokenizer.fromFile(join(models, 'bert-base-uncased', 'tokenizer.json'));
  const mine = await loadTokenizer(join(models, 'bert-base-uncased'));
  // Words of one and of three tokens, so that where tokenization stops falls inside and between words;
  // and an added token, which is counted but never stops it.
  const text = (n: number, word: string) => Array(n).fill(word).join(' ');
  for (const word of ['a', 'unaffable', '[MASK]']) {
    for (const maxLength of [9, 12, 16]) {
      reference.setTruncation(maxLength, { strategy: 'LongestFirst' as never });
      for (let a = 0; a <= 20; a += word === 'a' ? 1 : 3) {
        for (let b = 0; b <= 20; b++) {
          const expected = (await reference.encode(text(a, word), text(b, 'a'))).getIds();
          t.deepEqual(
            mine.encode(text(a, word), text(b, 'a'), { maxLength }).inputIds,
            expected,
            `${word} x${a} + a x${b}, max ${maxLength}`,
          );
        }
      }
    }
  }
});
