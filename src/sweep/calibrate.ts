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
  /** Loading the task's tokenized data (from the tokenization cache, which the calibration filled). */
  dataSeconds: number;
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

/** Batches spread over the list (by position), so short and long ones are both timed. */
const spread = <T>(list: T[], n: number): T[] =>
  list.length <= n ? list : Array.from({ length: n }, (_, i) => list[Math.floor(((i + 0.5) * list.length) / n)] as T);

const now = () => Number(process.hrtime.bigint()) / 1e9;

export async function calibrate(
  config: CellConfig,
  device: string,
  members: number,
  options: { steps?: number } = {},
): Promise<Calibration> {
  const started = now();
  await loadCellData(config); // fills the tokenization cache: the cells will read it, so time the warm load
  let t = now();
  const data = await loadCellData(config);
  const dataSeconds = now() - t;
  const { recipe } = config;
  t = now();
  const model = await Model.load(config.model.path, {
    device,
    dtype: config.dtype,
    numLabels: data.numLabels,
    ...(data.task.isRegression ? { problemType: 'regression' as const } : {}),
    newHead: true,
    seed: derivedSeed(config.seed, 'model'),
    members,
  });
  const loadSeconds = now() - t;
  try {
    const batching = {
      batchSize: recipe.batchSize,
      seed: derivedSeed(config.seed, 'data'),
      ...(recipe.groupByLength ? { bucketing: true } : {}),
    };
    const epoch = batchOrder(data.train, { ...batching, epoch: 0 });
    const trainTokensPerEpoch = epoch.reduce((s, b) => s + padded(data.train, b), 0);
    await model.configureTraining({ lr: recipe.lr, weightDecay: recipe.weightDecay, maxGradNorm: recipe.maxGradNorm, totalSteps: 1000 });
    const stepBatches = spread(epoch, (options.steps ?? 4) + 1);
    const train = async (indices: Int32Array) => {
      const { indices: _, ...b } = collate(data.train, indices);
      await model.trainStep(b);
    };
    await train(stepBatches[0] as Int32Array); // the first step allocates the optimizer state and warms kernels
    let trainTime = 0;
    let trainTokens = 0;
    for (const b of stepBatches.slice(1)) {
      t = now();
      await train(b);
      trainTime += now() - t;
      trainTokens += padded(data.train, b);
    }
    const evaluation = evalBatches(data.eval, recipe.evalBatchSize);
    const evalTokens = evaluation.reduce((s, b) => s + padded(data.eval, b), 0);
    const probeTokens = evalTokens + evalBatches(data.train, recipe.evalBatchSize).reduce((s, b) => s + padded(data.train, b), 0);
    const predict = async (indices: Int32Array) => {
      const { labels: _l, indices: _i, ...inputs } = collate(data.eval, indices);
      await model.predictMembers(inputs, { output: 'logits' });
    };
    const evalTimed = spread(evaluation, 3);
    await predict(evalTimed[0] as Int32Array);
    let evalTime = 0;
    let evalTimedTokens = 0;
    for (const b of evalTimed) {
      t = now();
      await predict(b);
      evalTime += now() - t;
      evalTimedTokens += padded(data.eval, b);
    }
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
    return {
      device,
      members,
      loadSeconds,
      dataSeconds,
      trainSecondsPerToken: trainTime / Math.max(1, trainTokens),
      evalSecondsPerToken: evalTime / Math.max(1, evalTimedTokens),
      probeSecondsPerExample,
      trainExamples: data.train.size,
      evalExamples: data.eval.size,
      trainTokensPerEpoch,
      evalTokens,
      probeTokens,
      stepsTimed: stepBatches.length - 1,
      evalBatchesTimed: evalTimed.length,
      seconds: now() - started,
    };
  } finally {
    model.dispose();
  }
}
