/**
 * A saved model keeps its folder's tokenizer: every tokenizer file is copied, a SentencePiece model
 * (DeBERTa-v3's spm.model, with no tokenizer.json beside it) included, and the copy loads the same tokenizer.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Model } from '../../src/model/model.js';
import { loadTokenizerSpec } from '../../src/tokenizer/load.js';
import { copyModelDir, tempDir } from '../helpers/checkpoints.js';
import { modelFixture } from '../helpers/fixtures.js';
import { unigramFixture } from '../tokenizer/unigram-fixtures.js';

test('saving a model copies its spm.model and tokenizer_config.json, and the copy reads as the same tokenizer', async (t) => {
  const source = copyModelDir(modelFixture('tiny-bert'));
  for (const file of ['spm.model', 'tokenizer_config.json']) copyFileSync(join(unigramFixture('deberta-v3-spm'), file), join(source, file));
  const m = await Model.load(source);
  const out = tempDir();
  try {
    await m.save(out);
  } finally {
    m.dispose();
  }
  t.deepEqual(readFileSync(join(out, 'spm.model')), readFileSync(join(source, 'spm.model')));
  // The saved config.json is tiny-bert's (model_type bert, which names no class for a .model); with DeBERTa's
  // config.json beside them, the copied files read as the same tokenizer.
  const before = await loadTokenizerSpec(unigramFixture('deberta-v3-spm'));
  copyFileSync(join(unigramFixture('deberta-v3-spm'), 'config.json'), join(out, 'config.json'));
  t.is((await loadTokenizerSpec(out)).hash, before.hash);
});
