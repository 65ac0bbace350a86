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
export function lengthOrder(d: TokenizedDataset): Int32Array {
  const order = Int32Array.from({ length: d.size }, (_, i) => i);
  return order.sort(
    (a, b) => (d.offsets[a + 1] as number) - (d.offsets[a] as number) - ((d.offsets[b + 1] as number) - (d.offsets[b] as number)),
  );
}

/**
 * Row-major outputs (logits, or first-token features) for every example, in dataset order: one array per
 * member of the model (one for a solo model), from one pass over the data.
 */
export async function outputsMembers(
  model: Model,
  d: TokenizedDataset,
  batchSize: number,
  output: 'logits' | 'cls',
): Promise<{ values: Float32Array[]; width: number }> {
  const order = lengthOrder(d);
  let values: Float32Array[] | undefined;
  let width = 0;
  for (let start = 0; start < d.size; start += batchSize) {
    const indices = order.subarray(start, Math.min(d.size, start + batchSize));
    const batch = collate(d, indices);
    const { labels: _, ...inputs } = batch;
    const members = await model.predictMembers(inputs, { output });
    width = (members[0] as Float32Array).length / indices.length;
    const targets = values ?? members.map(() => new Float32Array(d.size * width));
    values = targets;
    members.forEach((out, k) => {
      const target = targets[k] as Float32Array;
      indices.forEach((example, row) => {
        target.set(out.subarray(row * width, (row + 1) * width), example * width);
      });
    });
  }
  return { values: values ?? Array.from({ length: model.members }, () => new Float32Array(0)), width };
}

/** outputsMembers() of a solo model. */
export async function outputs(
  model: Model,
  d: TokenizedDataset,
  batchSize: number,
  output: 'logits' | 'cls',
): Promise<{ values: Float32Array; width: number }> {
  model.checkMember(undefined, 'outputs');
  const { values, width } = await outputsMembers(model, d, batchSize, output);
  return { values: values[0] as Float32Array, width };
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

/** The task's metrics for every member of the model, from one pass over the data. */
export async function evaluateMembers(model: Model, task: Task, d: TokenizedDataset, batchSize: number): Promise<MetricValues[]> {
  const { values, width } = await outputsMembers(model, d, batchSize, 'logits');
  return values.map((v) => scorePredictions(task, v, width, d.labels as Int32Array | Float32Array));
}

export async function evaluate(model: Model, task: Task, d: TokenizedDataset, batchSize: number): Promise<MetricValues> {
  model.checkMember(undefined, 'evaluate');
  return (await evaluateMembers(model, task, d, batchSize))[0] as MetricValues;
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

/** Fine-tunes a solo model: fineTuneMembers() with one member. */
export async function fineTune(
  model: Model,
  task: Task,
  train: TokenizedDataset,
  evalSet: TokenizedDataset,
  options: FineTuneOptions,
): Promise<FineTuneResult> {
  model.checkMember(undefined, 'fineTune');
  const { onStep, ...rest } = options;
  const r = await fineTuneMembers(model, task, train, evalSet, {
    ...rest,
    ...(onStep ? { onStep: (s: FleetStep) => onStep({ epoch: s.epoch, step: s.step, steps: s.steps, loss: s.losses[0] as number }) } : {}),
  });
  return { epochs: r.epochs[0] as EpochRecord[], ...(r.diverged[0] ? { diverged: r.diverged[0] } : {}) };
}

export interface FleetStep {
  epoch: number;
  step: number;
  steps: number;
  /** Every member's loss at this step (a member that has stopped keeps training nothing: ignore it). */
  losses: Float64Array;
  /** Members still training after this step. */
  active: boolean[];
}

export interface FleetFineTuneOptions extends Pick<FineTuneOptions, 'recipe' | 'epochs' | 'seed' | 'signal'> {
  trainable?: (p: ParameterInfo, member: number) => boolean;
  lrScale?: (p: ParameterInfo, member: number) => number;
  /** Members that take no part (they failed earlier); their results stay empty. */
  inactive?: ReadonlySet<number>;
  onStep?: (info: FleetStep) => void;
  onEpoch?: (record: EpochRecord, member: number) => void;
  /**
   * Evaluates every member after an epoch instead of evaluateMembers() (measurements gather what they need from
   * the same pass: src/measure/cell.ts); it must return what evaluateMembers() would.
   */
  evaluate?: (epoch: number, last: boolean, active: readonly boolean[]) => Promise<MetricValues[]>;
}

export interface FleetFineTuneResult {
  /** Per member: its evaluated epochs. */
  epochs: EpochRecord[][];
  /** Per member: set when its loss became NaN or infinite (it stopped there; the others went on). */
  diverged: ({ step: number; loss: number } | undefined)[];
}

/**
 * Fine-tunes every member of a model together: one native step per batch for all members, evaluation of
 * all members after every epoch in one pass. A member whose loss turns non-finite is recorded as diverged
 * and deactivated; the others go on. Each member's records are what the same model alone would record.
 */
export async function fineTuneMembers(
  model: Model,
  task: Task,
  train: TokenizedDataset,
  evalSet: TokenizedDataset,
  options: FleetFineTuneOptions,
): Promise<FleetFineTuneResult> {
  const { recipe } = options;
  const k = model.members;
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
  const active = Array.from({ length: k }, (_, m) => !options.inactive?.has(m));
  for (let m = 0; m < k; m++) if (!active[m]) await model.deactivateMember(m);
  const result: FleetFineTuneResult = { epochs: Array.from({ length: k }, () => []), diverged: Array.from({ length: k }, () => undefined) };
  let step = 0;
  const started = process.hrtime.bigint();
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const lossSum = new Float64Array(k);
    let lossCount = 0;
    for (const batch of iterateBatches(train, { ...batching, epoch })) {
      if (options.signal?.aborted) throw new HealbertError('ERR_ARGUMENT', 'interrupted');
      const { indices: _, ...b } = batch;
      const r = await model.trainStep(b);
      step += 1;
      for (let m = 0; m < k; m++) {
        if (!active[m]) continue;
        const loss = r.losses[m] as number;
        if (Number.isFinite(loss)) {
          lossSum[m] = (lossSum[m] as number) + loss;
          continue;
        }
        result.diverged[m] = { step, loss };
        active[m] = false;
        if (active.some(Boolean)) await model.deactivateMember(m);
      }
      if (!active.some(Boolean)) return result;
      lossCount += 1;
      options.onStep?.({ epoch, step, steps, losses: r.losses, active: [...active] });
    }
    const metrics = options.evaluate
      ? await options.evaluate(epoch + 1, epoch + 1 === options.epochs, active)
      : await evaluateMembers(model, task, evalSet, recipe.evalBatchSize);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (let m = 0; m < k; m++) {
      if (!active[m]) continue;
      const record: EpochRecord = {
        epoch: epoch + 1,
        step,
        trainLoss: (lossSum[m] as number) / Math.max(1, lossCount),
        metrics: metrics[m] as MetricValues,
        seconds,
      };
      result.epochs[m]?.push(record);
      options.onEpoch?.(record, m);
    }
  }
  return result;
}
