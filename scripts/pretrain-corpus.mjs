#!/usr/bin/env node
/**
 * The bundled model's pre-training corpus, as plain-text folders `healbert pretrain --corpus` reads:
 *
 *   <out>/imdb/<split>-<label>/<id>.txt   IMDB's 50,000 train and test reviews (aclImdb v1), labels unused,
 *                                          "<br />" turned into paragraph breaks
 *   <out>/sst2/part-<k>.txt               the sentences of SST-2's training split, labels unused, one
 *                                          paragraph each, 100 files (documents are the unit held out);
 *                                          never the dev split
 *
 *   node scripts/pretrain-corpus.mjs --imdb ../shared/data/textcls/imdb/aclImdb_train_test.tar.gz \
 *     --sst2 ../shared/data/glue/SST-2/train.tsv --out ./pretrain-corpus
 *
 * Deterministic: the same inputs give the same files, byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { imdb: { type: 'string' }, sst2: { type: 'string' }, out: { type: 'string' } } });
if (!values.imdb || !values.sst2 || !values.out) {
  console.error('usage: node scripts/pretrain-corpus.mjs --imdb <aclImdb .tar.gz> --sst2 <SST-2 train.tsv> --out <dir>');
  process.exit(2);
}

const out = values.out;
mkdirSync(out, { recursive: true });

// IMDB: the reviews of train/{neg,pos} and test/{neg,pos}.
const tmp = mkdtempSync(join(out, '.extract-'));
try {
  execFileSync('tar', [
    'xzf',
    values.imdb,
    '-C',
    tmp,
    '--wildcards',
    'aclImdb/train/neg/*',
    'aclImdb/train/pos/*',
    'aclImdb/test/neg/*',
    'aclImdb/test/pos/*',
  ]);
  let reviews = 0;
  for (const split of ['train', 'test']) {
    for (const label of ['neg', 'pos']) {
      const from = join(tmp, 'aclImdb', split, label);
      const to = join(out, 'imdb', `${split}-${label}`);
      mkdirSync(to, { recursive: true });
      for (const name of readdirSync(from).sort()) {
        const text = readFileSync(join(from, name), 'utf8').replace(/<br\s*\/?>/gi, '\n\n');
        writeFileSync(join(to, name), `${text.trim()}\n`);
        reviews++;
      }
    }
  }
  console.log(`imdb: ${reviews} reviews in ${join(out, 'imdb')}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// SST-2: the "sentence" column of the training split (header: sentence<TAB>label).
const lines = readFileSync(values.sst2, 'utf8').split('\n');
const header = (lines[0] ?? '').split('\t');
const column = header.indexOf('sentence');
if (column < 0) {
  console.error(`${values.sst2}: no "sentence" column in the header (got ${JSON.stringify(header)})`);
  process.exit(1);
}
const sentences = lines
  .slice(1)
  .map((l) => (l.split('\t')[column] ?? '').trim())
  .filter((s) => s.length > 0);
const parts = 100;
const sstDir = join(out, 'sst2');
mkdirSync(sstDir, { recursive: true });
for (let k = 0; k < parts; k++) {
  const mine = sentences.filter((_, i) => i % parts === k);
  writeFileSync(join(sstDir, `part-${String(k).padStart(3, '0')}.txt`), `${mine.join('\n\n')}\n`);
}
console.log(`sst2: ${sentences.length} sentences in ${parts} files in ${sstDir}`);
