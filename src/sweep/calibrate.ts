/**
 * The timed calibration behind `sweep --plan`: on the chosen device, at the spec's shapes, load the model
 * (as a fleet of the size the sweep would use), time a few training steps on real batches of the task and a
 * few evaluation batches, and time the linear probe on a slice. Rates are per padded token, because
 * batches are padded to their longest example and lengths vary: the epoch's cost is the rate times the
 * epoch's padded tokens, which are counted exactly from the batch order the cells will use.
 */
import { batchOrder, collate } from '../data/batches.js';
import type { TokenizedDataset } from '../data/tokenized.js';
import { Model } from '../model/model.js';
import { derivedSeed } from './cell.js';
import { loadCellData } from './data.js';
import { linearProbe } from './probe.js';
import type { CellConfig } from './types.js';

export interface Calibration {
  device: string;
  members: number;
  /** Loading the model (weights from disk, a fresh head). */
  loadSeconds: number;
  /** What the first fleet in a worker process pays once beyond every later fleet's start (thread pools, kernels seen first). */
  processSeconds: number;
  /** Loading the task's tokenized data (from the tokenization cache, which the calibration filled). */
  dataSeconds: number;
  /** What a fleet's first training step and first evaluation batch take beyond the rates (allocation, warm-up). */
  warmupSeconds: number;
  trainSecondsPerToken: number;
  evalSecondsPerToken: number;
  /** The linear probe, per training example (it is linear in the examples for fixed epochs and width). */
  probeSecondsPerExample: number;
  trainExamples: number;
  evalExamples: number;
  /** Padded tokens of one training epoch, one evaluation pass, and one feature pass over train and eval. */
  trainTokensPerEpoch: number;
  evalTokens: number;
  probeTokens: number;
  stepsTimed: number;
  evalBatchesTimed: number;
  /** Wall time of the calibration itself. */
  seconds: number;
}

const lengthOf = (d: TokenizedDataset, i: number) => (d.offsets[i + 1] as number) - (d.offsets[i] as number);

/** Padded tokens of a batch: its size times its longest example (collate pads to that). */
const padded = (d: TokenizedDataset, indices: Int32Array) => indices.length * Math.max(0, ...Array.from(indices, (i) => lengthOf(d, i)));

/** Evaluation batches as train.ts forms them: examples sorted by length, then chunked. */
function evalBatches(d: TokenizedDataset, batchSize: number): Int32Array[] {
  const order = Int32Array.from({ length: d.size }, (_, i) => i).sort((a, b) => lengthOf(d, a) - lengthOf(d, b));
  const out: Int32Array[] = [];
  for (let s = 0; s < d.size; s += batchSize) out.push(order.subarray(s, Math.min(d.size, s + batchSize)));
  return out;
}

/** n batches spread over the list (by position, repeating when it is shorter), so short and long ones are both timed. */
const spread = <T>(list: T[], n: number): T[] => Array.from({ length: n }, (_, i) => list[Math.floor(((i + 0.5) * list.length) / n)] as T);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? 0
    : s.length % 2
      ? (s[(s.length - 1) / 2] as number)
      : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

const now = () => Number(process.hrtime.bigint()) / 1e9;

/**
 * Seconds per padded token of each of `batches` run by `run`: at least `min` of them, then until `budget`
 * seconds are spent. The first steps a process runs at a shape also pay one-time set-up (kernel selection,
 * first touches of memory) that a sweep pays once, not at every step; for a tiny model that is a large share
 * of a step (with first-pass rates the test sweep's estimate came out 2.5 times its real time in 1 of 5
 * fresh processes). So when the pass was cheap (under a quarter of the budget) it is run again over the
 * same batches and the second pass's rates count.
 */
async function timedRates(
  batches: Int32Array[],
  min: number,
  budget: number,
  run: (b: Int32Array) => Promise<void>,
  tokens: (b: Int32Array) => number,
): Promise<number[]> {
  const pass = async () => {
    const rates: number[] = [];
    const start = now();
    for (const b of batches) {
      if (rates.length >= min && now() - start > budget) break;
      const t = now();
      await run(b);
      rates.push((now() - t) / Math.max(1, tokens(b)));
    }
    return { rates, seconds: now() - start };
  };
  const first = await pass();
  return first.seconds < budget / 4 ? (await pass()).rates : first.rates;
}

export async function calibrate(
  config: CellConfig,
  device: string,
  members: number,
  options: { budgetSeconds?: number } = {},
): Promise<Calibration> {
  // Steps are timed until there are 3 and the budget is spent, or 16: a bert-base step on a CPU takes
  // seconds (3 steps), a tiny model's milliseconds (16 steps, whose median a loaded machine moves less).
  const budget = options.budgetSeconds ?? 2;
  const started = now();
  await loadCellData(config); // fills the tokenization cache: the cells will read it, so time the warm load
  let t = now();
  const data = await loadCellData(config);
  const dataSeconds = now() - t;
  const { recipe } = config;
  const batching = {
    batchSize: recipe.batchSize,
    seed: derivedSeed(config.seed, 'data'),
    ...(recipe.groupByLength ? { bucketing: true } : {}),
  };
  const epoch = batchOrder(data.train, { ...batching, epoch: 0 });
  const trainTokensPerEpoch = epoch.reduce((s, b) => s + padded(data.train, b), 0);
  const stepBatches = spread(epoch, 17);
  const evaluation = evalBatches(data.eval, recipe.evalBatchSize);
  const evalTokens = evaluation.reduce((s, b) => s + padded(data.eval, b), 0);
  const probeTokens = evalTokens + evalBatches(data.train, recipe.evalBatchSize).reduce((s, b) => s + padded(data.train, b), 0);
  const evalTimed = spread(evaluation, 8);
  const train = async (model: Model, indices: Int32Array) => {
    const { indices: _, ...b } = collate(data.train, indices);
    await model.trainStep(b);
  };
  const predict = async (model: Model, indices: Int32Array) => {
    const { labels: _l, indices: _i, ...inputs } = collate(data.eval, indices);
    await model.predictMembers(inputs, { output: 'logits' });
  };
  /** A fleet's start: load the model, its first training step (optimizer state, kernels) and first evaluation batch. */
  const start = async () => {
    let t = now();
    const model = await Model.load(config.model.path, {
      device,
      dtype: config.dtype,
      numLabels: data.numLabels,
      ...(data.task.isRegression ? { problemType: 'regression' as const } : {}),
      newHead: true,
      seed: derivedSeed(config.seed, 'model'),
      members,
      ...(config.model.untieLayers ? { untieLayers: true } : {}),
    });
    const load = now() - t;
    try {
      await model.configureTraining({ lr: recipe.lr, weightDecay: recipe.weightDecay, maxGradNorm: recipe.maxGradNorm, totalSteps: 1000 });
      t = now();
      await train(model, stepBatches[0] as Int32Array);
      const step = now() - t;
      t = now();
      await predict(model, evalTimed[0] as Int32Array);
      return { model, load, step, predict: now() - t };
    } catch (e) {
      model.dispose();
      throw e;
    }
  };
  const cold = await start();
  const { model } = cold;
  try {
    // Per-step rates, their median: one step slowed by another process on a shared machine does not
    // double the estimate.
    const trainRates = await timedRates(
      stepBatches.slice(1),
      3,
      budget,
      (b) => train(model, b),
      (b) => padded(data.train, b),
    );
    const evalRates = await timedRates(
      evalTimed,
      2,
      budget / 2,
      (b) => predict(model, b),
      (b) => padded(data.eval, b),
    );
    // The probe on random features of the model's width, on a slice of the training examples.
    const width = model.config.hiddenSize;
    const n = Math.min(data.train.size, 512);
    const features = Float32Array.from({ length: n * width }, (_, i) => Math.sin(i));
    const labels = data.task.isRegression
      ? Float32Array.from({ length: n }, (_, i) => i % 5)
      : Int32Array.from({ length: n }, (_, i) => i % data.numLabels);
    t = now();
    linearProbe(
      { features, labels, n, d: width },
      { features: features.subarray(0, width), labels: labels.subarray(0, 1), n: 1, d: width },
      data.numLabels,
      config.probe,
      1,
    );
    const probeSecondsPerExample = (now() - t) / n;
    // The first model a process loads and steps also pays for the process (thread pools, the allocator's
    // first blocks, kernels seen for the first time): once per worker, not per fleet. Where a fleet's start
    // is cheap, a second start measures what every later fleet pays; the difference is paid once. (For a
    // large model it is a small share of a start, which is then charged to every fleet: a slight overestimate.)
    const startSeconds = (s: typeof cold) => s.load + s.step + s.predict;
    let fleetStart = cold;
    if (startSeconds(cold) < budget / 4) {
      model.dispose(); // before the second load (dispose is idempotent: `finally` below repeats it)
      fleetStart = await start();
      fleetStart.model.dispose();
    }
    const processSeconds = Math.max(0, startSeconds(cold) - startSeconds(fleetStart));
    return {
      device,
      members,
      loadSeconds: fleetStart.load,
      dataSeconds,
      processSeconds,
      trainSecondsPerToken: median(trainRates),
      evalSecondsPerToken: median(evalRates),
      warmupSeconds:
        Math.max(0, fleetStart.step - median(trainRates) * padded(data.train, stepBatches[0] as Int32Array)) +
        Math.max(0, fleetStart.predict - median(evalRates) * padded(data.eval, evalTimed[0] as Int32Array)),
      probeSecondsPerExample,
      trainExamples: data.train.size,
      evalExamples: data.eval.size,
      trainTokensPerEpoch,
      evalTokens,
      probeTokens,
      stepsTimed: trainRates.length,
      evalBatchesTimed: evalRates.length,
      seconds: now() - started,
    };
  } finally {
    model.dispose();
  }
}
