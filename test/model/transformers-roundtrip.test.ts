/**
 * Round trips with Hugging Face transformers itself (test/python/roundtrip.py, the pip-torch lane's python):
 * every folder healbert writes loads in the matching AutoModelFor... class with no missing or unexpected
 * keys and gives healbert's outputs; every folder save_pretrained writes loads in healbert and gives
 * transformers' outputs; a pytorch_model.bin folder is refused, and the conversion command the error prints
 * works as printed. Inputs are real SST-2 rows, tokenized with the fixture's tokenizer, padded.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import type { Batch } from '../../src/batch.js';
import { isHealbertError } from '../../src/errors.js';
import { Model } from '../../src/model/model.js';
import { pretrain } from '../../src/pretrain/pretrain.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { fixturesDir, maxAbsDiff, modelFixture } from '../helpers/fixtures.js';
import { noteWhenSkipped, referencePython, runPython, transformersTest } from '../helpers/python.js';

noteWhenSkipped('round trips between healbert and transformers');

const TOLERANCE = 1e-5;
const execFileAsync = promisify(execFile);
const sst2Model = modelFixture('tiny-bert-sst2');
const MASK_ID = 4; // [MASK] in tiny-bert-sst2's vocabulary

/** Reference outputs of one batch (roundtrip.py's `run`). */
interface Outputs {
  cls: number[];
  logits?: number[];
  /** The MLM head's logits at the labelled positions, (N, V) row-major. */
  mlmLogits?: number[];
  mlm?: { lossSum: number; correct: number; count: number };
  class?: string;
  numLabels?: number;
  problemType?: string | null;
  /** Why transformers could not load the folder cleanly (load-and-run --keep-going). */
  error?: string;
}

interface Adapt {
  vocab: number;
  pad: number;
  tokenTypes: boolean;
  mlm?: boolean;
}

/** Six SST-2 dev rows as tiny-bert-sst2's tokenizer encodes them (ids < 400), at most 20 tokens each. */
async function sst2Encodings(): Promise<number[][]> {
  const tokenizer = await loadTokenizer(sst2Model);
  const rows = readFileSync(join(fixturesDir, 'glue', 'SST-2', 'dev.tsv'), 'utf8')
    .split('\n')
    .slice(1, 7);
  return rows.map((line) => tokenizer.encode(line.split('\t')[0] as string, undefined, { maxLength: 20 }).inputIds);
}

/**
 * The rows as a batch for one model: ids folded into its vocabulary (never its pad id, which RoBERTa's
 * positions depend on), padding with its pad id, segment 1 on the second half of each BERT row (so the
 * token-type embeddings matter), and for MLM a third of the positions labelled, half of those masked.
 */
function batchFor(rows: number[][], a: Adapt): Batch {
  const seqLen = Math.max(...rows.map((r) => r.length));
  const n = rows.length * seqLen;
  const b: Batch = { batchSize: rows.length, seqLen, inputIds: new Int32Array(n).fill(a.pad), attentionMask: new Uint8Array(n) };
  const types = new Int32Array(n);
  const labels = new Int32Array(n).fill(-100);
  rows.forEach((row, r) => {
    row.forEach((id, k) => {
      let t = id < a.vocab ? id : 5 + (id % (a.vocab - 5));
      if (t === a.pad) t = a.pad + 2;
      const i = r * seqLen + k;
      b.inputIds[i] = t;
      (b.attentionMask as Uint8Array)[i] = 1;
      types[i] = k >= row.length / 2 ? 1 : 0;
      if (a.mlm && k > 0 && (r + k) % 3 === 0) {
        labels[i] = t;
        if ((r + k) % 2 === 0) b.inputIds[i] = MASK_ID;
      }
    });
  });
  if (a.tokenTypes) b.tokenTypeIds = types;
  if (a.mlm) b.mlmLabels = labels;
  return b;
}

/** A batch as roundtrip.py reads it: nested lists. */
function toJson(b: Batch): Record<string, number[][]> {
  const rows = (a: ArrayLike<number>) =>
    Array.from({ length: b.batchSize }, (_, r) => Array.from(a).slice(r * b.seqLen, (r + 1) * b.seqLen));
  return {
    input_ids: rows(b.inputIds),
    attention_mask: rows(b.attentionMask as Uint8Array),
    ...(b.tokenTypeIds ? { token_type_ids: rows(b.tokenTypeIds) } : {}),
    ...(b.mlmLabels ? { mlm_labels: rows(b.mlmLabels) } : {}),
  };
}

const withoutMlm = ({ mlmLabels: _, ...rest }: Batch): Batch => rest;

/** healbert's outputs for one batch: the logits (classifier heads), the first token's state, the MLM statistics. */
async function healbertOutputs(model: Model, b: Batch, kind: 'sequence-classification' | 'masked-lm'): Promise<Outputs> {
  const out: Outputs = { cls: Array.from(await model.predict(withoutMlm(b), { output: 'cls' })) };
  if (kind === 'sequence-classification') out.logits = Array.from(await model.predict(withoutMlm(b)));
  if (b.mlmLabels) {
    out.mlm = await model.evaluateMlm(b);
    out.mlmLogits = Array.from(await model.predict(b, { output: 'mlm' }));
  }
  return out;
}

/** Asserts healbert's and transformers' outputs agree (logits and states within 1e-5; MLM loss within 1e-5 relative). */
function compare(t: ExecutionContext, mine: Outputs, reference: Outputs): void {
  const cls = maxAbsDiff(mine.cls, reference.cls);
  const parts = [`cls state ${cls.toExponential(2)}`];
  t.true(cls <= TOLERANCE, `first-token state: max abs diff ${cls}`);
  if (reference.logits || mine.logits) {
    const logits = maxAbsDiff(mine.logits ?? [], reference.logits ?? []);
    parts.unshift(`logits ${logits.toExponential(2)}`);
    t.true(logits <= TOLERANCE, `logits: max abs diff ${logits}`);
  }
  if (reference.mlmLogits || mine.mlmLogits) {
    const logits = maxAbsDiff(mine.mlmLogits ?? [], reference.mlmLogits ?? []);
    parts.push(`MLM logits ${logits.toExponential(2)}`);
    t.true(logits <= TOLERANCE, `MLM logits at the labelled positions: max abs diff ${logits}`);
  }
  if (reference.mlm || mine.mlm) {
    const [a, b] = [mine.mlm, reference.mlm];
    if (!a || !b) return void t.fail('MLM statistics on one side only');
    t.is(a.count, b.count);
    t.true(a.count > 0);
    const diff = Math.abs(a.lossSum / a.count - b.lossSum / b.count);
    parts.push(`MLM loss/token ${diff.toExponential(2)} (${(b.lossSum / b.count).toFixed(4)})`);
    t.true(diff <= TOLERANCE * Math.max(1, b.lossSum / b.count), `MLM loss per token: ${a.lossSum / a.count} vs ${b.lossSum / b.count}`);
    t.is(a.correct, b.correct, 'MLM argmax hits');
  }
  t.log(`max |diff|: ${parts.join(', ')}`);
}

/** Runs once, on first use, for every test that needs it. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => {
    result ??= make();
    return result;
  };
}

// ---- transformers -> healbert --------------------------------------------------------------------------

const BERT = { vocab: 400, pad: 0, tokenTypes: true };
const VARIANTS = {
  'bert-classification': BERT,
  'bert-regression': BERT,
  'bert-sharded': BERT,
  'roberta-classification': { vocab: 400, pad: 1, tokenTypes: false },
  'distilbert-classification': { vocab: 400, pad: 0, tokenTypes: false },
  'bert-mlm-tied': { ...BERT, mlm: true },
  'bert-mlm-tied-sharded': { ...BERT, mlm: true },
  'bert-mlm-untied': { ...BERT, mlm: true },
  'bert-classification-bin': BERT,
  'bert-mlm-tied-bin': { ...BERT, mlm: true },
  'bert-classification-sharded-bin': BERT,
} satisfies Record<string, Adapt>;
type Variant = keyof typeof VARIANTS;

const savedByTransformers = once(async () => {
  const rows = await sst2Encodings();
  const batches = Object.fromEntries(Object.entries(VARIANTS).map(([name, a]) => [name, batchFor(rows, a)])) as Record<Variant, Batch>;
  const out = tempDir('healbert-hf-');
  const reference = JSON.parse(
    runPython('roundtrip.py', ['save', out, ...Object.keys(VARIANTS)], {
      input: JSON.stringify(Object.fromEntries(Object.entries(batches).map(([k, b]) => [k, toJson(b)]))),
    }),
  ) as Record<Variant, Outputs>;
  return { dir: (v: Variant) => join(out, v), batches, reference };
});

for (const variant of [
  'bert-classification',
  'bert-regression',
  'bert-sharded',
  'roberta-classification',
  'distilbert-classification',
] as const) {
  transformersTest(`transformers -> healbert: ${variant} (save_pretrained) loads and gives transformers' logits`, async (t) => {
    const { dir, batches, reference } = await savedByTransformers();
    if (variant === 'bert-sharded') t.true(existsSync(join(dir(variant), 'model.safetensors.index.json')), 'sharded with an index');
    const model = await Model.load(dir(variant));
    try {
      t.deepEqual(model.loadReport?.initialised, [], 'every parameter came from the checkpoint');
      t.deepEqual(model.loadReport?.unexpected, []);
      compare(t, await healbertOutputs(model, batches[variant], 'sequence-classification'), reference[variant]);
    } finally {
      model.dispose();
    }
  });
}

for (const variant of ['bert-mlm-tied', 'bert-mlm-tied-sharded', 'bert-mlm-untied'] as const) {
  transformersTest(
    `transformers -> healbert: ${variant} (BertForMaskedLM) loads with its MLM head and gives transformers' predictions`,
    async (t) => {
      const { dir, batches, reference } = await savedByTransformers();
      const model = await Model.load(dir(variant), { mlmHead: true });
      try {
        // Untied (tie_word_embeddings: false): the decoder's own weight and bias are parameters and come
        // from the checkpoint; tied, the word embeddings decode.
        const decoder = model.parameters().filter((p) => p.name.startsWith('cls.predictions.decoder.'));
        t.is(decoder.length, variant === 'bert-mlm-untied' ? 2 : 0);
        t.deepEqual(model.loadReport?.unexpected, []);
        t.deepEqual(
          model.loadReport?.initialised.filter((n) => !/^(bert\.pooler|classifier)\./.test(n)),
          [],
          'everything but the pooler and classifier BertForMaskedLM lacks came from the checkpoint',
        );
        compare(t, await healbertOutputs(model, batches[variant], 'masked-lm'), reference[variant]);
      } finally {
        model.dispose();
      }
    },
  );
}

for (const variant of ['bert-classification-bin', 'bert-mlm-tied-bin', 'bert-classification-sharded-bin'] as const) {
  transformersTest(`transformers -> healbert: ${variant} is refused, and the conversion command it prints works as printed`, async (t) => {
    const { dir, batches, reference } = await savedByTransformers();
    const folder = dir(variant);
    const mlm = variant.includes('mlm');
    const error = await t.throwsAsync(Model.load(folder, { mlmHead: mlm }));
    t.true(isHealbertError(error) && error.code === 'ERR_CHECKPOINT', String(error));
    const printed = /^\s*(python3?) (-c ".*")$/m.exec(error?.message ?? '');
    if (!printed) return void t.fail(`no conversion command in: ${error?.message}`);
    // As printed, with the lane's python as the interpreter.
    const command = `'${referencePython}' ${printed[2]}`;
    // Asynchronously, so that the variants' conversions (each importing torch) overlap.
    const run = await execFileAsync('bash', ['-c', command], { cwd: folder }).catch((e: Error & { stderr?: string }) => e);
    if (run instanceof Error) return void t.fail(`the printed command failed: ${command}\n${run.stderr ?? run.message}`);
    const model = await Model.load(folder, { mlmHead: mlm });
    try {
      t.deepEqual(model.loadReport?.unexpected, []);
      compare(t, await healbertOutputs(model, batches[variant], mlm ? 'masked-lm' : 'sequence-classification'), reference[variant]);
    } finally {
      model.dispose();
    }
  });
}

// ---- healbert -> transformers --------------------------------------------------------------------------

type Kind = 'sequence-classification' | 'masked-lm';
interface Written {
  dir: string;
  kind: Kind;
  /** healbert's label count and head, for sequence classifiers. */
  head?: { numLabels: number; regression: boolean };
  batch: Batch;
  outputs: Outputs;
}

/** A few optimizer steps on the batch, as fine-tuning (or MLM healing) takes them. */
async function train(model: Model, b: Batch, regression: boolean): Promise<void> {
  await model.configureTraining({ lr: 1e-2 });
  const labels = regression
    ? Float32Array.from({ length: b.batchSize }, (_, i) => i / 2)
    : Int32Array.from({ length: b.batchSize }, (_, i) => i % model.config.numLabels);
  for (let step = 0; step < 3; step++) await model.trainStep(b.mlmLabels ? b : { ...b, labels });
}

/** The task models a sweep saves: Model.load (new head, the task's label count), fine-tuning steps, Model.save (src/sweep/cell.ts). */
async function taskModel(source: string, options: Parameters<typeof Model.load>[1], adapt: Adapt, rows: number[][]): Promise<Written> {
  const model = await Model.load(source, { ...options, seed: 3 });
  try {
    const batch = batchFor(rows, adapt);
    await train(model, adapt.mlm ? batch : withoutMlm(batch), model.config.head === 'regression');
    const dir = join(tempDir('healbert-written-'), 'model');
    const kind: Kind = adapt.mlm ? 'masked-lm' : 'sequence-classification';
    await model.save(dir, kind === 'masked-lm' ? { architecture: 'BertForMaskedLM' } : {});
    const head = { numLabels: model.config.numLabels, regression: model.config.head === 'regression' };
    return { dir, kind, batch, outputs: await healbertOutputs(model, batch, kind), ...(kind === 'masked-lm' ? {} : { head }) };
  } finally {
    model.dispose();
  }
}

async function loaded(dir: string, kind: Kind, adapt: Adapt, rows: number[][]): Promise<Written> {
  const model = await Model.load(dir, { mlmHead: kind === 'masked-lm' });
  try {
    const batch = batchFor(rows, adapt);
    const head = { numLabels: model.config.numLabels, regression: model.config.head === 'regression' };
    return { dir, kind, batch, outputs: await healbertOutputs(model, batch, kind), ...(kind === 'masked-lm' ? {} : { head }) };
  } finally {
    model.dispose();
  }
}

const TINY = { vocab: 67, pad: 0, tokenTypes: true };
const WRITTEN = [
  'corrupt --out',
  'corrupt --out of a BertForMaskedLM folder',
  'task model, 3 labels on a 2-label checkpoint',
  'task model, regression',
  'task model, gelu_new regression',
  'task model, RoBERTa',
  'task model, DistilBERT',
  'MLM-head model',
  'pretrain checkpoint',
  'pretrain final model',
] as const;

const writtenByHealbert = once(async () => {
  const rows = await sst2Encodings();
  const written = {} as Record<(typeof WRITTEN)[number], Written>;

  const corrupted = join(tempDir('healbert-corrupt-'), 'out');
  const cli = runCli([
    'corrupt',
    sst2Model,
    '--method',
    'gaussian',
    '--sigma',
    '0.5',
    '--relative',
    '--layers',
    'all',
    '--seed',
    '1',
    '--out',
    corrupted,
  ]);
  if (cli.status !== 0) throw new Error(`healbert corrupt failed:\n${cli.stderr}`);
  written['corrupt --out'] = await loaded(corrupted, 'sequence-classification', BERT, rows);
  // A masked-LM folder stays one: its MLM head is kept and the folder says BertForMaskedLM.
  const corruptedMlm = join(tempDir('healbert-corrupt-mlm-'), 'out');
  const mlmCli = runCli([
    'corrupt',
    modelFixture('tiny-bert-mlm'),
    '--method',
    'reinit',
    '--layers',
    'bottom:1',
    '--seed',
    '2',
    '--out',
    corruptedMlm,
  ]);
  if (mlmCli.status !== 0) throw new Error(`healbert corrupt (MLM) failed:\n${mlmCli.stderr}`);
  written['corrupt --out of a BertForMaskedLM folder'] = await loaded(corruptedMlm, 'masked-lm', { ...TINY, mlm: true }, rows);

  written['task model, 3 labels on a 2-label checkpoint'] = await taskModel(sst2Model, { numLabels: 3, newHead: true }, BERT, rows);
  written['task model, regression'] = await taskModel(sst2Model, { numLabels: 1, problemType: 'regression', newHead: true }, BERT, rows);
  written['task model, gelu_new regression'] = await taskModel(modelFixture('tiny-bert-regression'), {}, TINY, rows);
  written['task model, RoBERTa'] = await taskModel(
    modelFixture('tiny-roberta'),
    { newHead: true },
    { vocab: 67, pad: 1, tokenTypes: false },
    rows,
  );
  written['task model, DistilBERT'] = await taskModel(modelFixture('tiny-distilbert'), {}, { vocab: 67, pad: 0, tokenTypes: false }, rows);
  written['MLM-head model'] = await taskModel(modelFixture('tiny-bert-mlm'), { mlmHead: true }, { ...TINY, mlm: true }, rows);

  // A tiny pre-training run with the fixture's 400-token vocabulary: a checkpoint at step 2, the model at 4.
  const out = tempDir('healbert-pretrain-');
  await pretrain({
    corpus: [join(fixturesDir, 'corpus')],
    tokenizer: sst2Model,
    out,
    architecture: { layers: 2, hidden: 32, heads: 2, maxPositions: 64 },
    steps: 4,
    batchSize: 4,
    maxLength: 32,
    lr: 1e-3,
    warmupSteps: 1,
    seed: 1,
    holdOut: 0.34,
    evalEvery: 4,
    evalSequences: 8,
    checkpointEvery: 2,
    cacheDir: false,
  });
  const mlm = { ...BERT, mlm: true };
  written['pretrain checkpoint'] = await loaded(join(out, 'checkpoint-2'), 'masked-lm', mlm, rows);
  written['pretrain final model'] = await loaded(join(out, 'model'), 'masked-lm', mlm, rows);

  const entries = WRITTEN.map((name) => written[name]);
  const reference = JSON.parse(
    runPython('roundtrip.py', ['load-and-run', '--keep-going', ...entries.flatMap((w) => [w.dir, w.kind])], {
      input: JSON.stringify(entries.map((w) => toJson(w.batch))),
    }),
  ) as Outputs[];
  return new Map(WRITTEN.map((name, i) => [name, { ...written[name], reference: reference[i] as Outputs }]));
});

for (const name of WRITTEN) {
  transformersTest(`healbert -> transformers: ${name} loads in the matching AutoModelFor... and gives healbert's outputs`, async (t) => {
    const w = (await writtenByHealbert()).get(name);
    if (!w) return void t.fail(name);
    if (w.reference.error) return void t.fail(w.reference.error);
    t.log(`${w.reference.class} (${w.dir})`);
    if (w.head) {
      t.is(w.reference.numLabels, w.head.numLabels, "config.json's label count");
      t.is(w.reference.problemType, w.head.regression ? 'regression' : 'single_label_classification');
    }
    compare(t, w.outputs, w.reference);
  });
}
