#!/usr/bin/env node
// Makes demo/data/SST-2 from the official GLUE SST-2 files: a fixed random sample of train (seeded, so
// anyone can rebuild it from the official train.tsv) and the full dev set, both byte-for-byte rows in the
// GLUE layout. Usage: node scripts/demo-data.mjs <glue-root> [rows]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [root, rowsText = '5000'] = process.argv.slice(2);
if (!root) {
  process.stderr.write('usage: node scripts/demo-data.mjs <glue-root> [rows]\n');
  process.exit(2);
}
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo', 'data', 'SST-2');
mkdirSync(out, { recursive: true });
const [header, ...rows] = readFileSync(join(root, 'SST-2', 'train.tsv'), 'utf8')
  .split('\n')
  .filter((l) => l !== '');
// mulberry32, seed 20240101: a sample anyone can reproduce
let state = 20240101;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const index = rows.map((_, i) => i);
for (let i = index.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [index[i], index[j]] = [index[j], index[i]];
}
const chosen = index.slice(0, Number(rowsText)).sort((a, b) => a - b);
writeFileSync(join(out, 'train.tsv'), `${[header, ...chosen.map((i) => rows[i])].join('\n')}\n`);
writeFileSync(join(out, 'dev.tsv'), readFileSync(join(root, 'SST-2', 'dev.tsv')));
process.stderr.write(`wrote ${chosen.length} train rows (of ${rows.length}) and the dev set to ${out}\n`);
