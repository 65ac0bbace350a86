/**
 * Masked-language-model pre-training of a BERT, from scratch or continuing a checkpoint: packed corpus,
 * dynamic masking, AdamW with warm-up and linear decay, held-out MLM loss and accuracy as it goes,
 * checkpoints written atomically and resumed exactly (weights, AdamW moments, step and data cursor).
 *
 * Output folder: checkpoint-<step>/ (the latest two kept) and `latest` naming the newest; log.jsonl (one
 * event per line); model/ (the final model, a Hugging Face BertForMaskedLM folder with the tokenizer);
 * summary.json.
 */
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../atomic.js';
import { batchOrder } from '../data/batches.js';
import { defaultCacheDir } from '../data/tokenize-split.js';
import { HealbertError } from '../errors.js';
import { type ComputeDtype, Model } from '../model/model.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { type ElectraEval, electraConfig, evaluateElectra, saveElectraFolders } from './electra.js';
import { maskedBatch } from './masking.js';
import { bertConfig, type PretrainArchitecture } from './model-config.js';
import { type PackedCorpus, packCorpus } from './pack.js';

/** What pretrain() trains, on what, for how long, and where it writes (see the top of this file). */
export interface PretrainOptions {
  corpus: string[];
  /** A folder with the tokenizer (vocab.txt / tokenizer.json). */
  tokenizer: string;
  out: string;
  /** Continue pre-training this checkpoint (MLM head loaded or initialised); else build `architecture`. */
  init?: string;
  architecture?: PretrainArchitecture;
  steps: number;
  batchSize: number;
  maxLength: number;
  lr: number;
  warmupSteps: number;
  weightDecay?: number;
  /** Share of ordinary tokens selected for prediction in training batches (default 0.15, BERT's). */
  maskRate?: number;
  /**
   * 'mlm' (default): BERT's masked-language modelling. 'electra': replaced-token detection (src/pretrain/
   * electra.ts): a generator `generatorSize` as wide (default 1/4) fills the masked positions and the model
   * learns to tell replaced tokens; the loss is the generator's MLM loss + rtdWeight (default 50) x the
   * discriminator's. Saves <out>/model (ElectraForPreTraining) and <out>/generator (ElectraForMaskedLM).
   */
  objective?: 'mlm' | 'electra';
  generatorSize?: number;
  rtdWeight?: number;
  /**
   * Encoder dropout during pre-training (default: the model config's, 0.1 for a new BERT). The saved model's
   * config keeps the config's value, which is what fine-tuning then uses.
   */
  dropout?: number;
  seed: number;
  holdOut?: number;
  evalEvery: number;
  evalSequences?: number;
  checkpointEvery: number;
  logEvery?: number;
  device?: string;
  dtype?: ComputeDtype;
  saveDtype?: 'float32' | 'float16' | 'bfloat16';
  cacheDir?: string | false;
  signal?: AbortSignal;
  /** Called with every progress event. */
  onEvent?: (event: PretrainEvent) => void;
  /** Recorded in summary.json: how the run was started. */
  command?: string;
}

/** Progress of pre-training, as onEvent hears it and log.jsonl records it (one event a line, with its time). */
export type PretrainEvent =
  | {
      type: 'corpus';
      documents: number;
      /** How many documents are held out; their names, one a line, are in `heldOutList` (a list can be long). */
      heldOutDocuments: number;
      heldOutList: string;
      sequences: number;
      heldOutSequences: number;
      trainTokens: number;
      cached: boolean;
    }
  | { type: 'resume'; step: number; checkpoint: string }
  | { type: 'step'; step: number; steps: number; loss: number; lr: number; tokens: number; seconds: number }
  | {
      type: 'eval';
      step: number;
      /** The masked-LM loss and accuracy: the model's, or with --objective electra the generator's. */
      loss: number;
      accuracy: number;
      count: number;
      /** --objective electra: the discriminator's accuracy over real tokens, its AUC on replaced ones, their share. */
      discriminator?: ElectraEval['discriminator'];
    }
  | { type: 'checkpoint'; step: number; dir: string }
  | { type: 'stopped'; step: number }
  | { type: 'done'; step: number; dir: string };

/** summary.json: the steps and tokens trained, the final held-out evaluation, the corpus and the options used. */
export interface PretrainSummary {
  steps: number;
  tokensSeen: number;
  sequencesSeen: number;
  finalEval: { loss: number; accuracy: number; count: number; discriminator?: ElectraEval['discriminator'] };
  /** --objective electra: the generator's folder (the model's is <out>/model). */
  generator?: string;
  seconds: number;
  corpus: { files: number; documents: number; heldOutDocuments: string[]; sentences: number; trainTokens: number; trainSequences: number };
  options: Record<string, unknown>;
  command?: string;
}

interface Cursor {
  step: number;
  tokensSeen: number;
  sequencesSeen: number;
  seconds: number;
}

/**
 * Held-out MLM loss (mean over masked tokens) and accuracy, on a fixed set of sequences and masks, at BERT's
 * 15% whatever the training rate, so that runs with different mask rates compare.
 */
async function evaluate(model: Model, corpus: PackedCorpus, options: PretrainOptions) {
  const n = Math.min(options.evalSequences ?? 512, corpus.heldOut.size);
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for (let start = 0; start < n; start += options.batchSize) {
    const indices = Array.from({ length: Math.min(options.batchSize, n - start) }, (_, k) => start + k);
    const batch = maskedBatch(corpus.heldOut, indices, corpus.specials, { seed: options.seed + 1_000_003, stream: start });
    const r = await model.evaluateMlm(batch);
    lossSum += r.lossSum;
    correct += r.correct;
    count += r.count;
  }
  return { loss: lossSum / count, accuracy: correct / count, count };
}

async function latestCheckpoint(out: string): Promise<string | undefined> {
  const pointer = join(out, 'latest');
  if (!existsSync(pointer)) return undefined;
  const name = (await readFile(pointer, 'utf8')).trim();
  return existsSync(join(out, name, 'training-state.json')) ? join(out, name) : undefined;
}

/** BertForMaskedLM has no pooler and no classifier: the ones a model carries here are untrained. */
const notInMaskedLm = (p: { component: string }) => p.component === 'pooler' || p.component.startsWith('classifier');

async function writeCheckpoint(model: Model, out: string, cursor: Cursor, saveDtype: PretrainOptions['saveDtype']): Promise<string> {
  const name = `checkpoint-${cursor.step}`;
  const dir = join(out, name);
  await rm(dir, { recursive: true, force: true });
  // float32 weights in checkpoints: resuming must continue from exactly the trained values. An ELECTRA
  // checkpoint holds the discriminator and the generator together (healbert's own layout, which it resumes).
  await model.save(dir, { architecture: model.config.generator ? 'ElectraForPreTraining' : 'BertForMaskedLM', dtype: 'float32' });
  await model.saveTrainingState(dir, { ...cursor, saveDtype });
  await writeAtomic(join(out, 'latest'), `${name}\n`);
  // Keep the newest two: the one just written and the previous, in case this one is ever unreadable.
  const steps = (await readdir(out))
    .map((f) => /^checkpoint-(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const old of steps.slice(2)) await rm(join(out, `checkpoint-${old}`), { recursive: true, force: true });
  return dir;
}

/** The options checked, with their defaults. */
interface Settings {
  maskRate: number;
  electra: boolean;
  generatorSize: number;
  /** The dropout override for Model.load / fromConfig, or nothing (the config's). */
  dropout: { dropout?: number };
  device: string;
  dtype: ComputeDtype;
}

/** Writes an event to log.jsonl (with its time) after handing it to onEvent. */
type Recorder = (event: PretrainEvent) => Promise<void>;

/**
 * Pre-trains (see the top of this file): checks the options, packs the corpus, opens the model (resuming the
 * latest checkpoint in `out`, else continuing `init`, else a new one), trains to `steps` with evaluations and
 * checkpoints as it goes, then saves the final model and summary.json.
 */
export async function pretrain(options: PretrainOptions): Promise<PretrainSummary> {
  const settings = checkOptions(options);
  await mkdir(options.out, { recursive: true });
  const record = recorder(options);
  const corpus = await prepareCorpus(options, record);
  const resumeFrom = await latestCheckpoint(options.out);
  const model = await openModel(options, settings, corpus, resumeFrom);
  try {
    await model.configureTraining({
      lr: options.lr,
      warmupSteps: options.warmupSteps,
      totalSteps: options.steps,
      weightDecay: options.weightDecay ?? 0.01,
      maxGradNorm: 1,
    });
    let cursor: Cursor = { step: 0, tokensSeen: 0, sequencesSeen: 0, seconds: 0 };
    if (resumeFrom) {
      cursor = (await model.loadTrainingState(resumeFrom)) as unknown as Cursor;
      await record({ type: 'resume', step: cursor.step, checkpoint: resumeFrom });
    }
    const perEpoch = batchesPerEpoch(corpus, options);
    const started = process.hrtime.bigint();
    const elapsed = () => cursor.seconds + Number(process.hrtime.bigint() - started) / 1e9;
    let finalEval = await train(model, corpus, options, settings, { cursor, perEpoch, elapsed, record });
    if (Number.isNaN(finalEval.loss)) finalEval = await evaluateModel(model, corpus, options, settings.electra);
    // A checkpoint at the end too: running again with more steps continues from here.
    await writeCheckpoint(model, options.out, { ...cursor, seconds: elapsed() }, options.saveDtype);
    const final = join(options.out, 'model');
    const generator = await saveFinalModel(model, options, settings.electra, final);
    const summary = summarize(model, options, settings, corpus, { cursor, finalEval, generator, seconds: elapsed() });
    await writeFile(join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    await record({ type: 'done', step: cursor.step, dir: final });
    return summary;
  } finally {
    model.dispose();
  }
}

/** Checks the options before anything is written (ERR_ARGUMENT, naming the option), and fills in defaults. */
function checkOptions(options: PretrainOptions): Settings {
  for (const [name, value, min] of [
    ['steps', options.steps, 1],
    ['batchSize', options.batchSize, 1],
    ['evalEvery', options.evalEvery, 1],
    ['checkpointEvery', options.checkpointEvery, 1],
    ['warmupSteps', options.warmupSteps, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < min)
      throw new HealbertError('ERR_ARGUMENT', `${name} must be an integer >= ${min}, got ${value}`);
  }
  const maskRate = options.maskRate ?? 0.15;
  const electra = (options.objective ?? 'mlm') === 'electra';
  if (!['mlm', 'electra'].includes(options.objective ?? 'mlm'))
    throw new HealbertError('ERR_ARGUMENT', `objective must be mlm or electra, got ${options.objective}`);
  const generatorSize = options.generatorSize ?? 0.25;
  if (!(generatorSize > 0 && generatorSize <= 1))
    throw new HealbertError('ERR_ARGUMENT', `generatorSize must be in (0, 1], got ${generatorSize}`);
  if (options.rtdWeight !== undefined && !(options.rtdWeight > 0))
    throw new HealbertError('ERR_ARGUMENT', `rtdWeight must be positive, got ${options.rtdWeight}`);
  if (!electra && (options.generatorSize !== undefined || options.rtdWeight !== undefined))
    throw new HealbertError('ERR_ARGUMENT', 'generatorSize and rtdWeight are for objective electra');
  if (!(maskRate > 0 && maskRate < 1)) throw new HealbertError('ERR_ARGUMENT', `maskRate must be in (0, 1), got ${maskRate}`);
  if (options.dropout !== undefined && !(options.dropout >= 0 && options.dropout < 1))
    throw new HealbertError('ERR_ARGUMENT', `dropout must be in [0, 1), got ${options.dropout}`);
  const dropout = options.dropout === undefined ? {} : { dropout: options.dropout };
  return { maskRate, electra, generatorSize, dropout, device: options.device ?? 'cpu', dtype: options.dtype ?? 'float32' };
}

/** The run's event log: each event to onEvent, then appended to <out>/log.jsonl with its time. */
function recorder(options: PretrainOptions): Recorder {
  const emit = options.onEvent ?? (() => undefined);
  const log = join(options.out, 'log.jsonl');
  return async (event: PretrainEvent) => {
    emit(event);
    await appendFile(log, `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  };
}

/** The corpus packed into sequences (cached), its held-out documents listed in held-out-documents.txt. */
async function prepareCorpus(options: PretrainOptions, record: Recorder): Promise<PackedCorpus> {
  const tokenizer = await loadTokenizer(options.tokenizer);
  const cacheDir = options.cacheDir ?? (await defaultCacheDir(options.out));
  const corpus = await packCorpus(tokenizer, options.corpus, { maxLength: options.maxLength, holdOut: options.holdOut ?? 0.02, cacheDir });
  const heldOutList = join(options.out, 'held-out-documents.txt');
  await writeAtomic(heldOutList, corpus.heldOutDocuments.map((d) => `${d}\n`).join(''));
  await record({
    type: 'corpus',
    documents: corpus.documents,
    heldOutDocuments: corpus.heldOutDocuments.length,
    heldOutList,
    sequences: corpus.train.size,
    heldOutSequences: corpus.heldOut.size,
    trainTokens: corpus.trainTokens,
    cached: corpus.cached,
  });
  return corpus;
}

/**
 * The model trained: the latest checkpoint in `out` (resuming), else `init` (continuing it), else a new one of
 * `architecture`. Refused (and disposed) when its kind does not match the objective or its vocabulary is
 * smaller than the tokenizer's.
 */
async function openModel(
  options: PretrainOptions,
  settings: Settings,
  corpus: PackedCorpus,
  resumeFrom: string | undefined,
): Promise<Model> {
  const { electra, device, dtype, dropout } = settings;
  // ELECTRA's model carries its generator (and the generator its masked-LM head); BERT's, the MLM head.
  const head = { mlmHead: !electra };
  let model: Model;
  if (resumeFrom) {
    model = await Model.load(resumeFrom, { device, dtype, ...head, seed: options.seed, ...dropout });
  } else if (options.init) {
    model = await Model.load(options.init, { device, dtype, ...head, seed: options.seed, ...dropout });
  } else {
    if (!options.architecture)
      throw new HealbertError('ERR_ARGUMENT', 'pre-training from scratch needs an architecture (layers, hidden, heads)');
    const raw = electra
      ? electraConfig(corpus.specials.vocabSize, options.architecture, corpus.specials.pad, settings.generatorSize, options.rtdWeight ?? 50)
      : bertConfig(corpus.specials.vocabSize, options.architecture, corpus.specials.pad);
    model = await Model.fromConfig(raw, { device, dtype, ...head, seed: options.seed, ...dropout });
  }
  if (electra !== (model.config.generator !== undefined)) {
    model.dispose();
    throw new HealbertError(
      'ERR_ARGUMENT',
      electra
        ? `--objective electra continues healbert's ELECTRA pre-training checkpoints (a discriminator with its generator); ${resumeFrom ?? options.init} has no generator`
        : `${resumeFrom ?? options.init} is an ELECTRA pre-training checkpoint: continue it with --objective electra`,
    );
  }
  if (model.config.vocabSize < corpus.specials.vocabSize) {
    model.dispose();
    throw new HealbertError(
      'ERR_ARGUMENT',
      `the model's vocabulary (${model.config.vocabSize}) is smaller than the tokenizer's (${corpus.specials.vocabSize})`,
    );
  }
  return model;
}

/** Full batches per pass over the training sequences (the last partial batch is dropped); ERR_DATA when none. */
function batchesPerEpoch(corpus: PackedCorpus, options: PretrainOptions): number {
  const perEpoch = Math.floor(corpus.train.size / options.batchSize);
  if (perEpoch === 0)
    throw new HealbertError(
      'ERR_DATA',
      `the corpus has ${corpus.train.size} training sequences, fewer than one batch of ${options.batchSize}`,
    );
  return perEpoch;
}

/** The held-out evaluation of the objective: the MLM's, or ELECTRA's generator and discriminator. */
function evaluateModel(
  model: Model,
  corpus: PackedCorpus,
  options: PretrainOptions,
  electra: boolean,
): Promise<PretrainSummary['finalEval']> {
  return electra ? evaluateElectra(model, corpus, options) : evaluate(model, corpus, options);
}

/** Where training stands and how it reports: the cursor it advances, batches per epoch, the clock, the log. */
interface TrainingRun {
  cursor: Cursor;
  perEpoch: number;
  /** Seconds trained, those of earlier runs of a resumed one included. */
  elapsed: () => number;
  record: Recorder;
}

/**
 * Trains from the cursor's step to `steps`: each step's batch is a fixed function of (seed, step) (the epoch's
 * order, then dynamic masking), so a resumed run takes the steps an uninterrupted one would. Logs the mean loss
 * every logEvery steps, evaluates every evalEvery, checkpoints every checkpointEvery; an aborted signal
 * checkpoints and stops. Returns the last evaluation (NaN loss when none ran).
 */
async function train(
  model: Model,
  corpus: PackedCorpus,
  options: PretrainOptions,
  settings: Settings,
  run: TrainingRun,
): Promise<PretrainSummary['finalEval']> {
  const { cursor, perEpoch, elapsed, record } = run;
  let epoch = -1;
  let order: Int32Array[] = [];
  let lossSum = 0;
  let lossCount = 0;
  const logEvery = options.logEvery ?? 10;
  let finalEval: PretrainSummary['finalEval'] = { loss: Number.NaN, accuracy: Number.NaN, count: 0 };
  while (cursor.step < options.steps) {
    if (options.signal?.aborted) {
      await writeCheckpoint(model, options.out, { ...cursor, seconds: elapsed() }, options.saveDtype);
      await record({ type: 'stopped', step: cursor.step });
      throw new HealbertError('ERR_ARGUMENT', `pre-training interrupted at step ${cursor.step}; run the same command again to resume`);
    }
    const e = Math.floor(cursor.step / perEpoch);
    if (e !== epoch) {
      epoch = e;
      order = batchOrder(corpus.train, { batchSize: options.batchSize, seed: options.seed, epoch, dropLast: true });
    }
    const indices = order[cursor.step % perEpoch] as Int32Array;
    const batch = maskedBatch(corpus.train, indices, corpus.specials, {
      seed: options.seed,
      stream: cursor.step,
      probability: settings.maskRate,
    });
    const r = await model.trainStep(batch);
    cursor.step += 1;
    cursor.sequencesSeen += batch.batchSize;
    cursor.tokensSeen += (batch.attentionMask as Uint8Array).reduce((s, x) => s + x, 0);
    lossSum += r.loss;
    lossCount += 1;
    if (cursor.step % logEvery === 0 || cursor.step === options.steps) {
      await record({
        type: 'step',
        step: cursor.step,
        steps: options.steps,
        loss: lossSum / lossCount,
        lr: r.lr,
        tokens: cursor.tokensSeen,
        seconds: elapsed(),
      });
      lossSum = 0;
      lossCount = 0;
    }
    if (cursor.step % options.evalEvery === 0 || cursor.step === options.steps) {
      finalEval = await evaluateModel(model, corpus, options, settings.electra);
      await record({ type: 'eval', step: cursor.step, ...finalEval });
    }
    if (cursor.step % options.checkpointEvery === 0 && cursor.step < options.steps) {
      const dir = await writeCheckpoint(model, options.out, { ...cursor, seconds: elapsed() }, options.saveDtype);
      await record({ type: 'checkpoint', step: cursor.step, dir });
    }
  }
  return finalEval;
}

/**
 * The final model in `final` (<out>/model): a BertForMaskedLM folder with the tokenizer's files, or for ELECTRA
 * the discriminator there and the generator beside it (its folder returned).
 */
async function saveFinalModel(model: Model, options: PretrainOptions, electra: boolean, final: string): Promise<string | undefined> {
  if (electra) return (await saveElectraFolders(model, options.out, options.tokenizer, options.saveDtype ?? 'float32')).generator;
  await rm(final, { recursive: true, force: true });
  await model.save(final, { architecture: 'BertForMaskedLM', dtype: options.saveDtype ?? 'float32', skip: notInMaskedLm });
  for (const file of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (existsSync(join(options.tokenizer, file)) && !existsSync(join(final, file)))
      await copyFile(join(options.tokenizer, file), join(final, file));
  }
  return undefined;
}

/** summary.json: what was trained, on what corpus, with which options, and the final evaluation. */
function summarize(
  model: Model,
  options: PretrainOptions,
  settings: Settings,
  corpus: PackedCorpus,
  end: { cursor: Cursor; finalEval: PretrainSummary['finalEval']; generator: string | undefined; seconds: number },
): PretrainSummary {
  const { cursor, finalEval, generator } = end;
  const { electra, maskRate, device, dtype } = settings;
  return {
    steps: cursor.step,
    tokensSeen: cursor.tokensSeen,
    sequencesSeen: cursor.sequencesSeen,
    finalEval,
    ...(generator ? { generator } : {}),
    seconds: end.seconds,
    corpus: {
      files: corpus.files.length,
      documents: corpus.documents,
      heldOutDocuments: corpus.heldOutDocuments,
      sentences: corpus.sentences,
      trainTokens: corpus.trainTokens,
      trainSequences: corpus.train.size,
    },
    options: {
      steps: options.steps,
      batchSize: options.batchSize,
      maxLength: options.maxLength,
      lr: options.lr,
      warmupSteps: options.warmupSteps,
      weightDecay: options.weightDecay ?? 0.01,
      maskRate,
      objective: electra ? 'electra' : 'mlm',
      ...(electra ? { generator: model.config.generator, rtdWeight: model.config.rtdWeight } : {}),
      dropout: options.dropout ?? model.config.hiddenDropout,
      seed: options.seed,
      device,
      dtype,
      architecture: options.architecture,
      init: options.init,
    },
    ...(options.command ? { command: options.command } : {}),
  };
}
