/**
 * Unigram tokenizers against Hugging Face's Rust tokenizer (the `tokenizers` npm package, 0.23 as
 * transformers 5.17's), without Python: the fixture folders whose tokenizer.json is what transformers runs
 * (saved by transformers 5.17, or read as it is), on every GLUE dev row and the edge cases. The classes'
 * own pipelines over other layouts are checked against transformers itself in unigram-parity.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { fixtures, loadHf, type ParityInput } from './helpers.js';
import { hfEncode } from './reference.js';
import { unigramFixture, unigramInputs } from './unigram-fixtures.js';

const hf = await loadHf();
const maybe = hf ? test : test.skip;
if (!hf) test('Hugging Face tokenizers (npm) could not load here: Unigram reference comparisons skipped', (t) => t.pass());

/** Folders whose tokenizer.json transformers runs as it is written (the others rebuild it from the class). */
const AS_WRITTEN = ['xlm-roberta', 'albert', 'deberta-v3', 'xlm-roberta-raw', 'albert-raw', 'generic-byte-fallback', 'generic-first'];

function glueDev(): ParityInput[] {
  return gunzipSync(readFileSync(join(fixtures, 'tokenizer', 'glue-dev.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ParityInput);
}

const describe = (x: ParityInput) => JSON.stringify(x.text_pair === undefined ? x.text : [x.text, x.text_pair]).slice(0, 160);

for (const folder of AS_WRITTEN) {
  maybe(
    `${folder}: equals Hugging Face's Rust tokenizer on the edge cases (max length none, 128, 16) and every GLUE dev row`,
    async (t) => {
      const reference = (hf as NonNullable<typeof hf>).Tokenizer.fromFile(join(unigramFixture(folder), 'tokenizer.json'));
      const mine = await loadTokenizer(unigramFixture(folder));
      let compared = 0;
      let differing = 0;
      const check = async (input: ParityInput, maxLength: number | undefined) => {
        const expected = await hfEncode(reference, input.text, input.text_pair, maxLength);
        const actual = mine.encode(input.text, input.text_pair, maxLength === undefined ? {} : { maxLength });
        compared++;
        if (actual.inputIds.join(' ') === expected.inputIds.join(' ') && actual.tokenTypeIds.join(' ') === expected.tokenTypeIds.join(' '))
          return;
        if (differing++ < 5)
          t.log(`max ${maxLength}: ${describe(input)}\n  hf   ${expected.inputIds.join(' ')}\n  mine ${actual.inputIds.join(' ')}`);
      };
      for (const maxLength of [undefined, 128, 16]) for (const input of unigramInputs()) await check(input, maxLength);
      for (const input of glueDev()) await check(input, undefined);
      t.log(`${compared} encodings compared`);
      t.is(differing, 0);
    },
  );
}

maybe(
  'added tokens marked normalized match the normalized text (their content normalized too); single_word ones only as words',
  async (t) => {
    const source = unigramFixture('albert-raw');
    const dir = mkdtempSync(join(tmpdir(), 'healbert-unigram-added-'));
    await cp(source, dir, { recursive: true });
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { added_tokens: object[] };
    const token = (id: number, content: string, normalized: boolean, singleWord: boolean) => ({
      id,
      content,
      single_word: singleWord,
      lstrip: false,
      rstrip: false,
      normalized,
      special: false,
    });
    json.added_tokens.push(token(1000, 'HeLLo', true, false), token(1001, 'Wor', false, true), token(1002, 'ǅx', true, false));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const reference = (hf as NonNullable<typeof hf>).Tokenizer.fromFile(join(dir, 'tokenizer.json'));
    const mine = await loadTokenizer(dir);
    const inputs: ParityInput[] = [
      ...['hello world', 'HELLO there', 'ＨｅＬＬｏ', 'say hello, HeLLo!', 'Wor Word wor, Wor.', 'xWor Wor', 'ǅx ǆx Ǆx dzx'].map(
        (text) => ({ text }),
      ),
      ...unigramInputs(),
    ];
    let used = 0;
    for (const input of inputs) {
      const expected = await hfEncode(reference, input.text, input.text_pair, undefined);
      const actual = mine.encode(input.text, input.text_pair);
      t.deepEqual(actual.inputIds, expected.inputIds, describe(input));
      if (actual.inputIds.some((id) => id >= 1000)) used++;
    }
    t.true(used >= 6, `the added tokens matched in ${used} inputs`);
  },
);
