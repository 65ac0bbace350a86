/**
 * Character classes against Hugging Face's tokenizer, code point by code point: the whole Basic
 * Multilingual Plane and every range listed in unicode-exceptions.ts. (The full sweep over all 1.1M code
 * points takes minutes: test/fixtures/tokenizer/unicode-diff.ts.)
 */
import { join } from 'node:path';
import test from 'ava';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import {
  EXTRA_MARK_NONSPACING,
  EXTRA_PUNCTUATION,
  NOT_MARK_NONSPACING,
  NOT_OTHER,
  NOT_PUNCTUATION,
} from '../../src/tokenizer/unicode-exceptions.js';
import { loadHf, models } from './helpers.js';
import { hfRobertaFromFiles } from './reference.js';

const hf = await loadHf();
const maybe = hf ? test : test.skip;

function codePoints(): number[] {
  const cps: number[] = [];
  for (let cp = 0; cp < 0x10000; cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
  for (const ranges of [NOT_OTHER, NOT_PUNCTUATION, NOT_MARK_NONSPACING, EXTRA_PUNCTUATION, EXTRA_MARK_NONSPACING]) {
    for (const [start, end] of ranges) for (let cp = start; cp <= end; cp++) if (cp >= 0x10000) cps.push(cp);
  }
  return cps;
}

// Each probe puts the character inside a word, alone, and doubled: removal, splitting, accents and case all show.
const probe = (cp: number) => {
  const ch = String.fromCodePoint(cp);
  return `a${ch}b ${ch} ${ch}${ch}`;
};

maybe('BERT (uncased) treats every BMP code point and every listed exception as Hugging Face does', async (t) => {
  const reference = (hf as NonNullable<typeof hf>).Tokenizer.fromFile(join(models, 'bert-base-uncased', 'tokenizer.json'));
  const mine = await loadTokenizer(join(models, 'bert-base-uncased'));
  const cps = codePoints();
  const encodings = await reference.encodeBatch(cps.map(probe), { addSpecialTokens: false });
  const differing = cps.filter(
    (cp, i) => (encodings[i] as { getIds(): number[] }).getIds().join(' ') !== mine.tokenize(probe(cp)).join(' '),
  );
  t.deepEqual(
    differing.map((cp) => cp.toString(16)),
    [],
  );
});

maybe('RoBERTa treats every BMP code point as Hugging Face does', async (t) => {
  const reference = await hfRobertaFromFiles(hf as NonNullable<typeof hf>, join(models, 'roberta-base'));
  const mine = await loadTokenizer(join(models, 'roberta-base'));
  const cps = codePoints().filter((cp) => cp < 0x10000);
  const encodings = await reference.encodeBatch(cps.map(probe), { addSpecialTokens: false });
  const differing = cps.filter(
    (cp, i) => (encodings[i] as { getIds(): number[] }).getIds().join(' ') !== mine.tokenize(probe(cp)).join(' '),
  );
  t.deepEqual(
    differing.map((cp) => cp.toString(16)),
    [],
  );
});
