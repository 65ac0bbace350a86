/**
 * What a scan scores a model with: the rows it evaluates (tokenized with the model's tokenizer, cached on
 * disk) and the evaluator, either the model's own task head on those rows or, for a pre-trained model
 * without one, the sweeps' linear probe on frozen first-token features (trained on the first rows of the
 * train split, one fixed probe seed, so clean and corrupted models are probed alike).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { computeMetrics } from '../data/compute-metrics.js';
import { getTask, resolveSplit, type Task } from '../data/tasks.js';
import { tokenizeSplit } from '../data/tokenize-split.js';
import type { TokenizedDataset } from '../data/tokenized.js';
import { HealbertError } from '../errors.js';
import type { Model } from '../model/model.js';
import { derivedSeed } from '../sweep/cell.js';
import { subsetDataset } from '../sweep/data.js';
import { linearProbe } from '../sweep/probe.js';
import { outputs, scorePredictions } from '../sweep/train.js';
import type { MetricValues, ProbeRecipe } from '../sweep/types.js';
import { hasTokenizerFiles, TOKENIZER_ENTRY_FILES } from '../tokenizer/files.js';
import { loadTokenizer } from '../tokenizer/load.js';
import type { ScanEvaluation } from './types.js';

export interface ScanData {
  task: Task;
  split: string;
  eval: TokenizedDataset;
  /** Probe only. */
  train: TokenizedDataset | null;
  numLabels: number;
}

const fail = (field: string, message: string): never => {
  throw new HealbertError('ERR_CONFIG', `scan.${field}: ${message}`);
};

/** The first n examples of a dataset (all when n is undefined or larger). */
export function firstRows(d: TokenizedDataset, n: number | undefined): TokenizedDataset {
  if (n === undefined || n >= d.size) return d;
  return subsetDataset(
    d,
    Int32Array.from({ length: n }, (_, i) => i),
  );
}

/** sha256 of a tokenized dataset's content: ids, segments, boundaries and labels. */
export function datasetSha256(d: TokenizedDataset): string {
  const hash = createHash('sha256');
  for (const a of [d.ids, d.typeIds, d.offsets, d.labels ?? new Int32Array(0)])
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return hash.digest('hex');
}

export function taskOf(name: string): Task {
  try {
    return getTask(name);
  } catch (error) {
    return fail('task', (error as Error).message);
  }
}

export interface LoadScanDataOptions {
  task: string;
  data: string;
  split?: string | undefined;
  rows?: number | undefined;
  trainRows: number;
  maxLength: number;
  evaluation: ScanEvaluation;
  tokenizerDir: string;
  cacheDir?: string | false | undefined;
}

export async function loadScanData(o: LoadScanDataOptions): Promise<ScanData> {
  const task = taskOf(o.task);
  if (!existsSync(o.data)) fail('data', `folder ${o.data} does not exist`);
  const split = (() => {
    try {
      return resolveSplit(task, o.split ?? ('dev' in task.splits || 'dev' in task.splitAliases ? 'dev' : 'validation'));
    } catch (error) {
      return fail('split', (error as Error).message);
    }
  })();
  if (!hasTokenizerFiles(o.tokenizerDir))
    fail('tokenizer', `${o.tokenizerDir} has no tokenizer files (${TOKENIZER_ENTRY_FILES.join(', ')})`);
  const tokenizer = await loadTokenizer(o.tokenizerDir);
  const load = async (name: string) =>
    (
      await tokenizeSplit({
        tokenizer,
        task,
        dataRoot: o.data,
        split: name,
        maxLength: o.maxLength,
        ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
      })
    ).dataset;
  const evalSet = firstRows(
    await load(split).catch((error: unknown) => {
      // (the split file missing or malformed: the message names the file; the flag is --data)
      throw error instanceof HealbertError ? new HealbertError(error.code, `scan.data: ${error.message}`, { cause: error }) : error;
    }),
    o.rows,
  );
  if (!evalSet.labels) fail('split', `the '${split}' split of ${task.name} has no labels to score against`);
  if (evalSet.size === 0) fail('split', `the '${split}' split of ${task.name} has no rows`);
  let train: TokenizedDataset | null = null;
  if (o.evaluation === 'probe') {
    try {
      train = firstRows(await load('train'), o.trainRows);
    } catch (error) {
      fail(
        'evaluation',
        `the linear probe (how a model without a task head is scored, or any model with --eval probe) is trained on the 'train' split, and it cannot be read (${(error as Error).message}). ` +
          'Scan a model with a task head for this task, or give data with a train split.',
      );
    }
    if (!train?.labels || train.size < 2) fail('evaluation', `the probe needs a labelled train split with at least 2 rows`);
  }
  return { task, split, eval: evalSet, train, numLabels: task.isRegression ? 1 : task.labelNames.length };
}

const nanMetrics = (task: Task): MetricValues => Object.fromEntries(task.metrics.map((k) => [k, Number.NaN]));

export type Evaluator = (model: Model) => Promise<MetricValues>;

export function makeEvaluator(data: ScanData, evaluation: ScanEvaluation, batchSize: number, probe: ProbeRecipe): Evaluator {
  const labels = data.eval.labels as Int32Array | Float32Array;
  if (evaluation === 'head') {
    return async (model) => {
      const { values, width } = await outputs(model, data.eval, batchSize, 'logits');
      // NaN logits would argmax to class 0 and score as predictions: a broken model scores NaN instead.
      if (!values.every(Number.isFinite)) return nanMetrics(data.task);
      return scorePredictions(data.task, values, width, labels);
    };
  }
  const train = data.train as TokenizedDataset;
  // One probe seed for every run: the probe's data order is then the same for the clean and corrupted models.
  const seed = derivedSeed(0, 'probe');
  return async (model) => {
    const a = await outputs(model, train, batchSize, 'cls');
    const b = await outputs(model, data.eval, batchSize, 'cls');
    // (NaN features would standardise to NaN and the probe would predict class 0 for every row)
    if (!a.values.every(Number.isFinite) || !b.values.every(Number.isFinite)) return nanMetrics(data.task);
    const predictions = linearProbe(
      { features: a.values, labels: train.labels as Int32Array | Float32Array, n: train.size, d: a.width },
      { features: b.values, labels, n: data.eval.size, d: b.width },
      data.numLabels,
      probe,
      seed,
    );
    if (predictions.some((p) => !Number.isFinite(p))) return nanMetrics(data.task);
    return computeMetrics(data.task, predictions, labels).values as MetricValues;
  };
}
