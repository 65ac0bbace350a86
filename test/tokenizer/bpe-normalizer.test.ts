/**
 * Byte-level BPE with a normalizer in its tokenizer.json (ModernBERT's carries NFC): the normalizers that
 * Unigram pipelines use run first, as in Hugging Face's Rust tokenizer (the `tokenizers` npm package).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { loadHf, models } from './helpers.js';
import { hfEncode, hfRobertaFromFiles } from './reference.js';
import { unigramInputs } from './unigram-fixtures.js';

const hf = await loadHf();
const maybe = hf ? test : test.skip;

maybe("RoBERTa's BPE with an NFC (or NFKC + Lowercase) normalizer equals Hugging Face on the edge cases", async (t) => {
  const h = hf as NonNullable<typeof hf>;
  const plain = await loadTokenizer(join(models, 'roberta-base'));
  for (const [name, normalizer] of [
    ['NFC', h.nfcNormalizer()],
    ['NFKC + Lowercase', h.sequenceNormalizer([h.nfkcNormalizer(), h.lowercase()])],
  ] as const) {
    const reference = await hfRobertaFromFiles(h, join(models, 'roberta-base'));
    reference.setNormalizer(normalizer);
    const dir = mkdtempSync(join(tmpdir(), 'healbert-bpe-normalizer-'));
    reference.save(join(dir, 'tokenizer.json'));
    const mine = await loadTokenizer(dir);
    t.deepEqual(
      mine.spec.normalizers?.map((s) => s.type),
      name === 'NFC' ? ['NFC'] : ['NFKC', 'Lowercase'],
    );
    t.not(mine.hash, plain.hash);
    let changed = 0;
    for (const input of unigramInputs()) {
      const expected = await hfEncode(reference, input.text, input.text_pair, 128);
      const actual = mine.encode(input.text, input.text_pair, { maxLength: 128 });
      t.deepEqual(actual.inputIds, expected.inputIds, `${name}: ${JSON.stringify(input).slice(0, 120)}`);
      if (actual.inputIds.join() !== plain.encode(input.text, input.text_pair, { maxLength: 128 }).inputIds.join()) changed++;
    }
    // The normalizer did something on these inputs (decomposed accents, full-width letters, capitals).
    t.true(changed > 0, `${name} changed no encoding`);
  }
});
