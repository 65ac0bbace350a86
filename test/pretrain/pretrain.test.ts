import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { TokenizedDataset } from '../../src/data/tokenized.js';
import { Model } from '../../src/model/model.js';
import { packageRoot } from '../../src/native/binding.js';
import { splitSentences, stripGutenberg } from '../../src/pretrain/corpus.js';
import { maskedBatch } from '../../src/pretrain/masking.js';
import { packCorpus, specialIds } from '../../src/pretrain/pack.js';
import { type PretrainEvent, pretrain } from '../../src/pretrain/pretrain.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { tempDir } from '../helpers/checkpoints.js';
import { fixturesDir } from '../helpers/fixtures.js';

const corpusDir = join(fixturesDir, 'corpus');
const tokenizerDir = join(fixturesDir, 'tokenizer', 'models', 'bert-base-uncased');

test('Gutenberg boilerplate is stripped and text splits into sentences', (t) => {
  const text =
    'Header\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\nIt was a dark\nnight. "Who is there?" she\nasked.\n\nMr. Smith came. 3 men left!\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nLicense';
  const body = stripGutenberg(text);
  t.false(body.includes('Header'));
  t.false(body.includes('License'));
  t.deepEqual(splitSentences(body), ['It was a dark night.', '"Who is there?" she asked.', 'Mr.', 'Smith came.', '3 men left!']);
});

test('packing: [CLS] ... [SEP] sequences within the length, held-out documents apart, cached the second time', async (t) => {
  const tokenizer = await loadTokenizer(tokenizerDir);
  const cacheDir = tempDir();
  const corpus = await packCorpus(tokenizer, [corpusDir], { maxLength: 64, holdOut: 0.34, cacheDir });
  const { cls, sep } = specialIds(tokenizer);
  t.is(corpus.documents, 3);
  t.deepEqual(corpus.heldOutDocuments, ['pg7256_the_gift_of_the_magi.txt']);
  for (const d of [corpus.train, corpus.heldOut]) {
    for (let i = 0; i < d.size; i++) {
      const [start, end] = [d.offsets[i] as number, d.offsets[i + 1] as number];
      t.true(end - start <= 64 && end - start >= 3);
      t.is(d.ids[start], cls);
      t.is(d.ids[end - 1], sep);
    }
  }
  const again = await packCorpus(tokenizer, [corpusDir], { maxLength: 64, holdOut: 0.34, cacheDir });
  t.true(again.cached);
  t.deepEqual(again.train.ids, corpus.train.ids);
});

test('a corpus of many small files (one review each) packs with few file descriptors', (t) => {
  const dir = tempDir();
  for (let i = 0; i < 400; i++) writeFileSync(join(dir, `${i}_7.txt`), `Review ${i} was fine. The film ran long.`);
  const script = `import { packCorpus } from './src/pretrain/pack.ts'; import { loadTokenizer } from './src/tokenizer/load.ts';
const c = await packCorpus(await loadTokenizer(${JSON.stringify(tokenizerDir)}), [${JSON.stringify(dir)}], { maxLength: 64, holdOut: 0.02, cacheDir: ${JSON.stringify(tempDir())} });
console.log(c.documents);`;
  // 64 descriptors: the 400 files must not be open at once.
  const r = spawnSync('bash', ['-c', `ulimit -n 64 && "${process.execPath}" --import tsx --input-type=module -e "$0"`, script], {
    cwd: packageRoot,
    encoding: 'utf8',
  });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), '400');
});

test('masking follows BERT: 15% of ordinary tokens, 80/10/10, labels hold the originals, reproducible', (t) => {
  const specials = { cls: 101, sep: 102, mask: 103, pad: 0, vocabSize: 30522 };
  const n = 2000;
  const len = 50;
  const ids = new Int32Array(n * len);
  const offsets = Int32Array.from({ length: n + 1 }, (_, i) => i * len);
  for (let i = 0; i < n; i++) {
    ids[i * len] = 101;
    ids[i * len + len - 1] = 102;
    for (let k = 1; k < len - 1; k++) ids[i * len + k] = 2000 + ((i * 7 + k) % 5000);
  }
  const dataset: TokenizedDataset = {
    size: n,
    ids,
    typeIds: new Uint8Array(ids.length),
    offsets,
    labels: undefined,
    isRegression: false,
    padId: 0,
    maxLength: len,
    tokenizerHash: '',
  };
  const indices = Array.from({ length: n }, (_, i) => i);
  const b = maskedBatch(dataset, indices, specials, { seed: 3, stream: 0 });
  const labels = b.mlmLabels as Int32Array;
  let selected = 0;
  let masked = 0;
  let kept = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === -100) {
      t.true(b.inputIds[i] === ids[i], 'unselected tokens are unchanged');
      continue;
    }
    t.false(ids[i] === 101 || ids[i] === 102, 'special tokens are never selected');
    t.is(labels[i], ids[i]);
    selected++;
    if (b.inputIds[i] === 103) masked++;
    else if (b.inputIds[i] === ids[i]) kept++;
  }
  const ordinary = n * (len - 2);
  t.true(Math.abs(selected / ordinary - 0.15) < 0.005, `selected ${selected / ordinary}`);
  t.true(Math.abs(masked / selected - 0.8) < 0.01, `masked ${masked / selected}`);
  t.true(Math.abs(kept / selected - 0.1) < 0.01, `kept ${kept / selected}`);
  t.deepEqual(maskedBatch(dataset, indices, specials, { seed: 3, stream: 0 }).inputIds, b.inputIds);
  t.notDeepEqual(maskedBatch(dataset, indices, specials, { seed: 3, stream: 1 }).inputIds, b.inputIds);
});

const base = (out: string) => ({
  corpus: [corpusDir],
  tokenizer: tokenizerDir,
  out,
  architecture: { layers: 2, hidden: 32, heads: 2 },
  steps: 40,
  batchSize: 8,
  maxLength: 48,
  lr: 2e-3,
  warmupSteps: 4,
  seed: 1,
  holdOut: 0.34,
  evalEvery: 20,
  evalSequences: 64,
  checkpointEvery: 10,
  logEvery: 5,
  cacheDir: false as const,
});

test('pre-training a tiny BERT for a few steps lowers the MLM loss, and its model loads for fine-tuning', async (t) => {
  const out = tempDir();
  const events: PretrainEvent[] = [];
  const summary = await pretrain({ ...base(out), onEvent: (e) => events.push(e) });
  const losses = events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
  t.true((losses.at(-1) as number) < (losses[0] as number) - 0.5, `loss ${losses[0]} -> ${losses.at(-1)}`);
  t.is(summary.steps, 40);
  t.true(summary.finalEval.count > 0);
  // The event (what --json prints) carries the held-out count and the file listing them, not the list.
  const corpus = events.find((e) => e.type === 'corpus');
  t.like(corpus, { heldOutDocuments: 1, heldOutList: join(out, 'held-out-documents.txt') });
  t.is(readFileSync(join(out, 'held-out-documents.txt'), 'utf8'), 'pg7256_the_gift_of_the_magi.txt\n');
  const model = await Model.load(join(out, 'model'), { numLabels: 2 });
  // Saved as BertForMaskedLM: no pooler, no classifier; fine-tuning starts them fresh, as transformers does.
  t.deepEqual(model.loadReport?.initialised, [
    'bert.pooler.dense.weight',
    'bert.pooler.dense.bias',
    'classifier.weight',
    'classifier.bias',
  ]);
  t.true(model.loadReport?.ignored.some((n) => n.startsWith('cls.predictions')));
  model.dispose();
});

test('an interrupted run resumes from its checkpoint and ends bitwise where an uninterrupted run ends', async (t) => {
  const straight = tempDir();
  await pretrain(base(straight));
  const interrupted = tempDir();
  const controller = new AbortController();
  const error = await t.throwsAsync(
    pretrain({
      ...base(interrupted),
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 15) controller.abort();
      },
    }),
  );
  t.regex(error.message, /interrupted at step 15/);
  const events: PretrainEvent[] = [];
  await pretrain({ ...base(interrupted), onEvent: (e) => events.push(e) });
  t.like(
    events.find((e) => e.type === 'resume'),
    { type: 'resume', step: 15 },
  );
  const [a, b] = [
    await Model.load(join(straight, 'model'), { mlmHead: true }),
    await Model.load(join(interrupted, 'model'), { mlmHead: true }),
  ];
  for (const p of a.parameters()) t.deepEqual(await b.getParameter(p.name), await a.getParameter(p.name), p.name);
  a.dispose();
  b.dispose();
});

test('--mask-rate selects that share of tokens; --dropout 0 trains without dropout and the saved model keeps 0.1 for fine-tuning', async (t) => {
  const tokenizer = await loadTokenizer(tokenizerDir);
  const corpus = await packCorpus(tokenizer, [corpusDir], { maxLength: 64, holdOut: 0.34, cacheDir: false });
  const indices = Array.from({ length: corpus.train.size }, (_, i) => i);
  const labelled = (p: number) => {
    const b = maskedBatch(corpus.train, indices, corpus.specials, { seed: 3, stream: 0, probability: p });
    return (b.mlmLabels as Int32Array).filter((x) => x !== -100).length / (b.attentionMask as Uint8Array).reduce((s, x) => s + x, 0);
  };
  // Shares of all real tokens ([CLS] and [SEP] included, never selected), so a little under the rate.
  t.true(Math.abs(labelled(0.4) - 0.4) < 0.04, `40%: ${labelled(0.4)}`);
  t.true(Math.abs(labelled(0.15) - 0.15) < 0.02, `15%: ${labelled(0.15)}`);

  const [off, on] = [tempDir(), tempDir()];
  const withoutDropout = await pretrain({ ...base(off), steps: 6, maskRate: 0.4, dropout: 0 });
  await pretrain({ ...base(on), steps: 6, maskRate: 0.4 });
  t.like(withoutDropout.options, { maskRate: 0.4, dropout: 0 });
  const saved = JSON.parse(readFileSync(join(off, 'model', 'config.json'), 'utf8'));
  t.is(saved.hidden_dropout_prob, 0.1);
  t.is(saved.attention_probs_dropout_prob, 0.1);
  // With dropout on, other weights than without.
  const name = 'bert.encoder.layer.0.attention.self.query.weight';
  const [a, b] = [await Model.load(join(off, 'model'), { mlmHead: true }), await Model.load(join(on, 'model'), { mlmHead: true })];
  t.notDeepEqual(await a.getParameter(name), await b.getParameter(name));
  a.dispose();
  b.dispose();
  // The dropout override is what a training step uses: the same bits as a step with dropout switched off.
  const batch = maskedBatch(corpus.train, indices.slice(0, 8), corpus.specials, { seed: 1, stream: 0, probability: 0.4 });
  const trained: Float32Array[] = [];
  for (const [options, step] of [
    [{ dropout: 0 }, { dropout: true }],
    [{}, { dropout: false }],
    [{}, { dropout: true }],
  ] as const) {
    const m = await Model.fromConfig({ ...saved, architectures: ['BertForMaskedLM'] }, { mlmHead: true, seed: 1, ...options });
    await m.configureTraining({ lr: 1e-3, warmupSteps: 0, totalSteps: 2, weightDecay: 0, maxGradNorm: 1 });
    await m.trainStep(batch, step);
    trained.push(await m.getParameter(name));
    m.dispose();
  }
  t.deepEqual(trained[0], trained[1]);
  t.notDeepEqual(trained[2], trained[1]);
  await t.throwsAsync(pretrain({ ...base(tempDir()), maskRate: 1.2 }), { message: /maskRate must be in \(0, 1\)/ });
  await t.throwsAsync(pretrain({ ...base(tempDir()), dropout: 1 }), { message: /dropout must be in \[0, 1\)/ });
});
