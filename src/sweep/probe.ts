/**
 * The linear probe that measures damage before fine-tuning: softmax (or, for regression, linear)
 * regression on frozen first-token features, standardised with the training set's statistics, trained
 * with Adam on mini-batches, deterministic given its seed. Plain TypeScript over Float32Arrays: the
 * features are small (examples x hidden size) next to the encoder that produced them.
 */
import { seededRandom, shuffleInPlace } from '../data/random.js';
import type { ProbeRecipe } from './types.js';

export interface ProbeInput {
  /** (n, d) row-major. */
  features: Float32Array;
  labels: Int32Array | Float32Array;
  n: number;
  d: number;
}

/** Trains on `train`, returns predictions for `test` (class ids, or values for regression). */
export function linearProbe(train: ProbeInput, test: ProbeInput, classes: number, recipe: ProbeRecipe, seed: number): Float64Array {
  const { d } = train;
  const regression = classes === 1;
  const k = regression ? 1 : classes;
  // Standardise each feature with the training mean and std.
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < train.n; i++)
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (train.features[i * d + j] as number) / train.n;
  for (let i = 0; i < train.n; i++) {
    for (let j = 0; j < d; j++) std[j] = (std[j] as number) + ((train.features[i * d + j] as number) - (mean[j] as number)) ** 2 / train.n;
  }
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j] as number) || 1;
  const standardise = (input: ProbeInput) => {
    const out = new Float32Array(input.n * d);
    for (let i = 0; i < input.n; i++)
      for (let j = 0; j < d; j++) out[i * d + j] = ((input.features[i * d + j] as number) - (mean[j] as number)) / (std[j] as number);
    return out;
  };
  const xs = { train: standardise(train), test: standardise(test) };
  // For regression, fit standardised targets.
  let yMean = 0;
  let yStd = 1;
  if (regression) {
    for (let i = 0; i < train.n; i++) yMean += (train.labels[i] as number) / train.n;
    let v = 0;
    for (let i = 0; i < train.n; i++) v += ((train.labels[i] as number) - yMean) ** 2 / train.n;
    yStd = Math.sqrt(v) || 1;
  }
  const w = new Float64Array(k * (d + 1)); // row c: weights then bias
  const m = new Float64Array(w.length);
  const v = new Float64Array(w.length);
  const grad = new Float64Array(w.length);
  const logits = new Float64Array(k);
  const random = seededRandom(seed, 0x9b0e);
  const order = Int32Array.from({ length: train.n }, (_, i) => i);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  let t = 0;
  for (let epoch = 0; epoch < recipe.epochs; epoch++) {
    shuffleInPlace(order, random);
    for (let start = 0; start < train.n; start += recipe.batchSize) {
      const end = Math.min(train.n, start + recipe.batchSize);
      grad.fill(0);
      for (let r = start; r < end; r++) {
        const i = order[r] as number;
        for (let c = 0; c < k; c++) {
          let z = w[c * (d + 1) + d] as number;
          for (let j = 0; j < d; j++) z += (w[c * (d + 1) + j] as number) * (xs.train[i * d + j] as number);
          logits[c] = z;
        }
        // d(loss)/d(logit): softmax minus one-hot, or the residual for squared error.
        if (regression) {
          logits[0] = (logits[0] as number) - ((train.labels[i] as number) - yMean) / yStd;
        } else {
          const max = Math.max(...logits);
          let sum = 0;
          for (let c = 0; c < k; c++) {
            logits[c] = Math.exp((logits[c] as number) - max);
            sum += logits[c] as number;
          }
          for (let c = 0; c < k; c++) logits[c] = (logits[c] as number) / sum - (c === train.labels[i] ? 1 : 0);
        }
        for (let c = 0; c < k; c++) {
          const g = (logits[c] as number) / (end - start);
          for (let j = 0; j < d; j++) grad[c * (d + 1) + j] = (grad[c * (d + 1) + j] as number) + g * (xs.train[i * d + j] as number);
          grad[c * (d + 1) + d] = (grad[c * (d + 1) + d] as number) + g;
        }
      }
      t += 1;
      for (let p = 0; p < w.length; p++) {
        const isBias = p % (d + 1) === d;
        const g = (grad[p] as number) + (isBias ? 0 : recipe.l2 * (w[p] as number));
        m[p] = b1 * (m[p] as number) + (1 - b1) * g;
        v[p] = b2 * (v[p] as number) + (1 - b2) * g * g;
        w[p] = (w[p] as number) - (recipe.lr * ((m[p] as number) / (1 - b1 ** t))) / (Math.sqrt((v[p] as number) / (1 - b2 ** t)) + eps);
      }
    }
  }
  const out = new Float64Array(test.n);
  for (let i = 0; i < test.n; i++) {
    let best = -Infinity;
    for (let c = 0; c < k; c++) {
      let z = w[c * (d + 1) + d] as number;
      for (let j = 0; j < d; j++) z += (w[c * (d + 1) + j] as number) * (xs.test[i * d + j] as number);
      if (regression) out[i] = z * yStd + yMean;
      else if (z > best) {
        best = z;
        out[i] = c;
      }
    }
  }
  return out;
}
