/**
 * Fine-tuning and evaluation over tokenized datasets: the loops a cell runs. One native call per
 * optimizer step; evaluation after every epoch; a non-finite loss stops training as a divergence.
 */
import { batchOrder, collate, iterateBatches } from '../data/batches.js';
import { computeMetrics } from '../data/compute-metrics.js';
import type { Task } from '../data/tasks.js';
import type { TokenizedDataset } from '../data/tokenized.js';
import { HealbertError } from '../errors.js';
import type { Model, ParameterInfo } from '../model/model.js';
import type { EpochRecord, MetricValues, Recipe } from './types.js';

/** Evaluation order: examples sorted by length, so batches pad little; results go back in dataset order. */
function lengthOrder(d: TokenizedDataset): Int32Array {
  const order = Int32Array.from({ length: d.size }, (_, i) => i);
  return order.sort(
    (a, b) => (d.offsets[a + 1] as number) - (d.offsets[a] as number) - ((d.offsets[b + 1] as number) - (d.offsets[b] as number)),
  );
}

/** Row-major outputs (logits, or first-token features) for every example, in dataset order. */
export async function outputs(
  model: Model,
  d: TokenizedDataset,
  batchSize: number,
  output: 'logits' | 'cls',
): Promise<{ values: Float32Array; width: number }> {
  const order = lengthOrder(d);
  let values: Float32Array | undefined;
  let width = 0;
  for (let start = 0; start < d.size; start += batchSize) {
    const indices = order.subarray(start, Math.min(d.size, start + batchSize));
    const batch = collate(d, indices);
    const { labels: _, ...inputs } = batch;
    const out = await model.predict(inputs, { output });
    width = out.length / indices.length;
    const target = values ?? new Float32Array(d.size * width);
    values = target;
    indices.forEach((example, row) => {
      target.set(out.subarray(row * width, (row + 1) * width), example * width);
    });
  }
  return { values: values ?? new Float32Array(0), width };
}

/** Predictions (class ids, or values for regression) and the task's metrics. */
export function scorePredictions(task: Task, logits: Float32Array, width: number, labels: Int32Array | Float32Array): MetricValues {
  const n = labels.length;
  const predictions = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * width, (i + 1) * width);
    if (task.isRegression) {
      predictions[i] = row[0] as number;
    } else {
      let best = 0;
      for (let c = 1; c < width; c++) if ((row[c] as number) > (row[best] as number)) best = c;
      predictions[i] = best;
    }
  }
  if (predictions.some((p) => !Number.isFinite(p))) return Object.fromEntries(task.metrics.map((m) => [m, Number.NaN]));
  return computeMetrics(task, predictions, labels).values as MetricValues;
}

export async function evaluate(model: Model, task: Task, d: TokenizedDataset, batchSize: number): Promise<MetricValues> {
  const { values, width } = await outputs(model, d, batchSize, 'logits');
  return scorePredictions(task, values, width, d.labels as Int32Array | Float32Array);
}

export interface FineTuneOptions {
  recipe: Recipe;
  epochs: number;
  /** Shuffling seed; epoch e uses stream e. */
  seed: number;
  trainable?: (p: ParameterInfo) => boolean;
  lrScale?: (p: ParameterInfo) => number;
  signal?: AbortSignal | undefined;
  onStep?: (info: { epoch: number; step: number; steps: number; loss: number }) => void;
  onEpoch?: (record: EpochRecord) => void;
}

export interface FineTuneResult {
  epochs: EpochRecord[];
  /** Set when a loss became NaN or infinite. */
  diverged?: { step: number; loss: number };
}

export async function fineTune(
  model: Model,
  task: Task,
  train: TokenizedDataset,
  evalSet: TokenizedDataset,
  options: FineTuneOptions,
): Promise<FineTuneResult> {
  const { recipe } = options;
  const batching = { batchSize: recipe.batchSize, seed: options.seed, ...(recipe.groupByLength ? { bucketing: true } : {}) };
  const perEpoch = batchOrder(train, { ...batching, epoch: 0 }).length;
  const steps = perEpoch * options.epochs;
  await model.configureTraining({
    lr: recipe.lr,
    weightDecay: recipe.weightDecay,
    maxGradNorm: recipe.maxGradNorm,
    warmupSteps: Math.ceil(recipe.warmupRatio * steps),
    totalSteps: steps,
    ...(options.trainable ? { trainable: options.trainable } : {}),
    ...(options.lrScale ? { lrScale: options.lrScale } : {}),
  });
  const epochs: EpochRecord[] = [];
  let step = 0;
  const started = process.hrtime.bigint();
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    let lossSum = 0;
    let lossCount = 0;
    for (const batch of iterateBatches(train, { ...batching, epoch })) {
      if (options.signal?.aborted) throw new HealbertError('ERR_ARGUMENT', 'interrupted');
      const { indices: _, ...b } = batch;
      const r = await model.trainStep(b);
      step += 1;
      if (!Number.isFinite(r.loss)) return { epochs, diverged: { step, loss: r.loss } };
      lossSum += r.loss;
      lossCount += 1;
      options.onStep?.({ epoch, step, steps, loss: r.loss });
    }
    const record: EpochRecord = {
      epoch: epoch + 1,
      step,
      trainLoss: lossSum / Math.max(1, lossCount),
      metrics: await evaluate(model, task, evalSet, recipe.evalBatchSize),
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    };
    epochs.push(record);
    options.onEpoch?.(record);
  }
  return { epochs };
}
