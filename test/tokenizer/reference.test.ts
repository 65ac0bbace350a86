/**
 * healbert's tokenizer against Hugging Face's Rust tokenizer (the `tokenizers` npm package, the same code
 * that BertTokenizerFast and RobertaTokenizerFast run), on the parity inputs (real GLUE sentences and edge
 * cases) and every row of the GLUE fixtures, with and without truncation.
 */
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadSplit } from '../../src/data/load-split.js';
import { GLUE_TASKS } from '../../src/data/tasks.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { fixtures, hasShared, loadHf, models, parityInputs, sharedData } from './helpers.js';
import { hfEncode, referenceModels } from './reference.js';

const hf = await loadHf();
const maybe = hf ? test : test.skip;
if (!hf) test('Hugging Face tokenizers (npm) could not load here: reference comparisons skipped', (t) => t.pass());

function describe(text: string, pair?: string): string {
  return JSON.stringify(pair === undefined ? text : [text, pair]).slice(0, 120);
}

maybe('equals Hugging Face on the parity inputs, at max lengths none, 128 and 16', async (t) => {
  const inputs = parityInputs();
  for (const model of await referenceModels(hf as NonNullable<typeof hf>)) {
    const mine = await loadTokenizer(model.dir);
    for (const maxLength of [undefined, 128, 16]) {
      for (const input of inputs) {
        const expected = await hfEncode(model.hf, input.text, input.text_pair, maxLength);
        const actual = mine.encode(input.text, input.text_pair, maxLength === undefined ? {} : { maxLength });
        t.deepEqual(actual.inputIds, expected.inputIds, `${model.name} max ${maxLength}: ${describe(input.text, input.text_pair)}`);
        t.deepEqual(actual.tokenTypeIds, expected.tokenTypeIds, `${model.name} types: ${describe(input.text, input.text_pair)}`);
      }
    }
  }
});

maybe('equals Hugging Face on every row of the GLUE fixtures', async (t) => {
  const refs = await referenceModels(hf as NonNullable<typeof hf>);
  let compared = 0;
  for (const model of refs.filter((m) => m.name !== 'bert-base-cased')) {
    const mine = await loadTokenizer(model.dir);
    for (const task of GLUE_TASKS.filter((x) => x.name !== 'mnli-mm')) {
      for (const split of Object.keys(task.splits)) {
        const { examples } = await loadSplit(task, join(fixtures, 'glue'), split);
        for (const e of examples) {
          const expected = await hfEncode(model.hf, e.text, e.textPair, 128);
          t.deepEqual(
            mine.encode(e.text, e.textPair, { maxLength: 128 }).inputIds,
            expected.inputIds,
            `${model.name} ${task.name}: ${describe(e.text, e.textPair)}`,
          );
          compared++;
        }
      }
    }
  }
  t.log(`${compared} GLUE rows compared`);
});

maybe('reading vocab.txt alone gives the same ids as tokenizer.json', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-vocab-'));
  for (const f of ['vocab.txt', 'tokenizer_config.json']) copyFileSync(join(models, 'bert-base-uncased', f), join(dir, f));
  const fromVocab = await loadTokenizer(dir);
  const fromJson = await loadTokenizer(join(models, 'bert-base-uncased'));
  for (const input of parityInputs()) {
    t.deepEqual(
      fromVocab.encode(input.text, input.text_pair, { maxLength: 64 }),
      fromJson.encode(input.text, input.text_pair, { maxLength: 64 }),
    );
  }
});

const robertaJson = join(sharedData, 'roberta-base', 'tokenizer.json');
(hf && hasShared && existsSync(robertaJson) ? test : test.skip)(
  'RoBERTa from the official tokenizer.json (shared/data) equals Hugging Face',
  async (t) => {
    const reference = (hf as NonNullable<typeof hf>).Tokenizer.fromFile(robertaJson);
    const mine = await loadTokenizer(join(sharedData, 'roberta-base'));
    for (const input of parityInputs()) {
      const expected = await hfEncode(reference, input.text, input.text_pair, 128);
      t.deepEqual(
        mine.encode(input.text, input.text_pair, { maxLength: 128 }).inputIds,
        expected.inputIds,
        describe(input.text, input.text_pair),
      );
    }
  },
);
