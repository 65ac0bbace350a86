/**
 * Tokenization speed on an MNLI-sized workload: 392,702 sentence pairs at max length 128, the way
 * tokenizeSplit does it (one thread, into flat typed arrays), with Hugging Face's Rust tokenizer (the
 * `tokenizers` npm package) as the peer measured in the same run.
 *
 *   node --import=tsx bench/tokenize.ts [--model <dir>] [--mnli <MNLI/train.tsv>] [--glue <glue root>] [--pairs n] [--no-peer]
 *
 * With --mnli (the real GLUE MNLI train.tsv), its pairs are used. Without it (MNLI train is not in
 * shared/data), pairs are drawn, seeded, from real GLUE sentences: a premise of 8-60 words and a
 * hypothesis of 3-25 words, which gives about MNLI's length profile (printed, with the MNLI sample's).
 */
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Example } from '../src/data/examples.js';
import { loadSplit } from '../src/data/load-split.js';
import { seededRandom } from '../src/data/random.js';
import { GLUE_TASKS } from '../src/data/tasks.js';
import { tokenizeExamples } from '../src/data/tokenized.js';
import { loadTokenizer } from '../src/tokenizer/load.js';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'test', 'fixtures', 'tokenizer', 'models', 'bert-base-uncased') },
    mnli: { type: 'string' },
    glue: { type: 'string', default: join(root, '..', 'shared', 'data', 'glue') },
    pairs: { type: 'string', default: '392702' },
    'no-peer': { type: 'boolean', default: false },
  },
});

async function workload(): Promise<{ pairs: Example[]; source: string }> {
  if (values.mnli) {
    const dir = join(values.mnli, '..', '..');
    const loaded = await loadSplit('mnli', dir, 'train');
    return { pairs: loaded.examples, source: values.mnli };
  }
  const sentences: string[] = [];
  for (const task of GLUE_TASKS.filter((t) => t.name !== 'mnli' && t.name !== 'mnli-mm' && t.name !== 'qqp')) {
    for (const split of Object.keys(task.splits)) {
      if (!existsSync(join(values.glue, task.dir, task.splits[split]?.file ?? ''))) continue;
      for (const e of (await loadSplit(task, values.glue, split)).examples) {
        sentences.push(e.text);
        if (e.textPair) sentences.push(e.textPair);
      }
    }
  }
  const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
  const premises = sentences.filter((s) => words(s) >= 8 && words(s) <= 60);
  const hypotheses = sentences.filter((s) => words(s) >= 3 && words(s) <= 25);
  const random = seededRandom(2024);
  const n = Number(values.pairs);
  const pairs: Example[] = [];
  for (let i = 0; i < n; i++) {
    pairs.push({
      text: premises[Math.floor(random() * premises.length)] as string,
      textPair: hypotheses[Math.floor(random() * hypotheses.length)] as string,
    });
  }
  return { pairs, source: `${n} pairs drawn from ${sentences.length} GLUE sentences in ${values.glue}` };
}

const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
console.log(`device: ${cpus()[0]?.model} x${cpus().length} (os.cpus), node ${process.version}, commit ${commit}`);

const { pairs, source } = await workload();
console.log(`workload: ${source}`);
const tokenizer = await loadTokenizer(values.model);
console.log(`tokenizer: ${values.model} (${tokenizer.spec.kind})`);

const t0 = performance.now();
const dataset = tokenizeExamples(tokenizer, pairs, { maxLength: 128 });
const seconds = (performance.now() - t0) / 1000;
const meanTokens = dataset.ids.length / dataset.size;
console.log(
  `healbert: ${pairs.length} pairs in ${seconds.toFixed(2)} s (${Math.round(pairs.length / seconds)} pairs/s), mean ${meanTokens.toFixed(1)} tokens/pair after truncation to 128`,
);

const sample = await loadSplit('mnli', join(root, 'test', 'fixtures', 'glue'), 'train');
const sampleMean =
  sample.examples.reduce((s, e) => s + tokenizer.encode(e.text, e.textPair, { maxLength: 128 }).inputIds.length, 0) /
  sample.examples.length;
console.log(`for comparison, the first 15 real MNLI train pairs (test/fixtures/glue): mean ${sampleMean.toFixed(1)} tokens/pair`);

if (!values['no-peer']) {
  const hf = await import('tokenizers');
  const json = join(values.model, 'tokenizer.json');
  if (!existsSync(json)) {
    console.log('peer: skipped (no tokenizer.json in the model folder)');
  } else {
    const peer = hf.Tokenizer.fromFile(json);
    peer.setTruncation(128, { strategy: 'LongestFirst' as never });
    const p0 = performance.now();
    let tokens = 0;
    let mismatches = 0;
    for (let start = 0; start < pairs.length; start += 10_000) {
      const chunk = pairs.slice(start, start + 10_000);
      const encodings = await Promise.all(chunk.map((e) => peer.encode(e.text, e.textPair ?? null)));
      encodings.forEach((encoding, k) => {
        const ids = encoding.getIds();
        tokens += ids.length;
        const i = start + k;
        if (i % 97 === 0) {
          const mine = dataset.ids.subarray(dataset.offsets[i], dataset.offsets[i + 1]);
          if (ids.join(' ') !== Array.from(mine).join(' ')) mismatches++;
        }
      });
    }
    const peerSeconds = (performance.now() - p0) / 1000;
    console.log(
      `peer (HF tokenizers ${hf === undefined ? '' : 'npm 0.23.2'}, Rust, async encode per pair, ids read back): ${peerSeconds.toFixed(2)} s (${Math.round(pairs.length / peerSeconds)} pairs/s), ${(tokens / pairs.length).toFixed(1)} tokens/pair; ${mismatches} mismatches in every 97th pair`,
    );
  }
}
