/**
 * Parity with Hugging Face transformers (BertTokenizerFast, RobertaTokenizerFast) on fixtures that its own
 * code produced: test/fixtures/tokenizer/hf-parity.jsonl.gz, written by generate_hf_parity.py on a machine
 * with transformers. Until that file exists, this test is skipped and says so.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { fixtures, models, parityInputs } from './helpers.js';

const file = join(fixtures, 'tokenizer', 'hf-parity.jsonl.gz');

interface Line {
  model: string;
  max_length: number;
  index: number;
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
}

if (!existsSync(file)) {
  test.skip('parity with transformers fixtures (hf-parity.jsonl.gz not generated yet: run generate_hf_parity.py on the GPU machine)', () => {});
} else {
  test('equals Hugging Face transformers on every fixture line', async (t) => {
    const [metaLine, ...lines] = gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter(Boolean);
    t.log(`fixtures from ${metaLine}`);
    const vocabOnly = mkdtempSync(join(tmpdir(), 'healbert-vocab-'));
    for (const f of ['vocab.txt', 'tokenizer_config.json']) copyFileSync(join(models, 'bert-base-uncased', f), join(vocabOnly, f));
    const dirs: Record<string, string> = {
      'bert-base-uncased': join(models, 'bert-base-uncased'),
      'bert-base-uncased-vocab': vocabOnly,
      'bert-base-cased': join(models, 'bert-base-cased'),
      'roberta-base': join(models, 'roberta-base'),
    };
    const tokenizers = new Map<string, Tokenizer>();
    const inputs = parityInputs();
    let mismatches = 0;
    for (const text of lines) {
      const line = JSON.parse(text) as Line;
      const dir = dirs[line.model];
      if (dir === undefined) continue;
      let tokenizer = tokenizers.get(line.model);
      if (!tokenizer) {
        tokenizer = await loadTokenizer(dir);
        tokenizers.set(line.model, tokenizer);
      }
      const input = inputs[line.index];
      if (!input) throw new Error(`fixture index ${line.index} is not in inputs.jsonl`);
      const actual = tokenizer.encode(input.text, input.text_pair, { maxLength: line.max_length });
      const ok =
        actual.inputIds.join(' ') === line.input_ids.join(' ') &&
        actual.tokenTypeIds.join(' ') === line.token_type_ids.join(' ') &&
        line.attention_mask.every((m) => m === 1) &&
        line.attention_mask.length === actual.inputIds.length;
      if (!ok && mismatches++ < 10) {
        t.log(
          `${line.model} max ${line.max_length} #${line.index} ${JSON.stringify(input).slice(0, 100)}\n  hf ${line.input_ids.join(' ')}\n  me ${actual.inputIds.join(' ')}`,
        );
      }
    }
    t.is(mismatches, 0, `${mismatches} of ${lines.length} fixture lines differ`);
  });
}
