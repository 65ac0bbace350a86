/**
 * Batches for the engine, as `Batch` (src/batch.ts) wants them: row-major typed arrays, padded to the
 * longest example of the batch (or to a fixed length, for CUDA graphs). Order is deterministic given
 * the seed and epoch.
 *
 * Length bucketing: the shuffled examples are cut into chunks of `bucketBatches` batches; inside a
 * chunk, each label's examples are sorted by length and placed at their quantile (rank / count), and
 * the chunk is cut into batches in that order. A batch therefore holds examples of similar length and
 * about the chunk's label mix, instead of, say, all the short contradictions together. The batch order
 * is then shuffled.
 */
import type { Batch } from '../batch.js';
import { HealbertError } from '../errors.js';
import { seededRandom, shuffleInPlace } from './random.js';
import { exampleLength, type TokenizedDataset } from './tokenized.js';

/** How a tokenized dataset is cut into batches: size, shuffling and its seed, grouping by length. */
export interface BatchOptions {
  batchSize: number;
  /** Shuffle the examples (default true). */
  shuffle?: boolean;
  /** Base seed (default 0). */
  seed?: number;
  /** Each epoch gets its own order from the same seed (default 0). */
  epoch?: number;
  /** Group examples of similar length (default false). True means chunks of 50 batches. */
  bucketing?: boolean | { bucketBatches: number };
  /** Pad every batch to exactly this many positions (examples must fit). */
  fixedLength?: number;
  /** Round the dynamic length up to a multiple of this (e.g. 8 for tensor cores). */
  padToMultipleOf?: number;
  /** Leave out a last, smaller batch (default false). */
  dropLast?: boolean;
}

/** A batch plus the dataset indices of its rows. */
export interface DataBatch extends Batch {
  attentionMask: Uint8Array;
  tokenTypeIds: Int32Array;
  indices: Int32Array;
}

function checkOptions(dataset: TokenizedDataset, options: BatchOptions): void {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new HealbertError('ERR_ARGUMENT', `batchSize must be a positive integer, got ${options.batchSize}`);
  }
  if (options.fixedLength !== undefined) {
    if (!Number.isInteger(options.fixedLength) || options.fixedLength < 1) {
      throw new HealbertError('ERR_ARGUMENT', `fixedLength must be a positive integer, got ${options.fixedLength}`);
    }
    for (let i = 0; i < dataset.size; i++) {
      if (exampleLength(dataset, i) > options.fixedLength) {
        throw new HealbertError(
          'ERR_ARGUMENT',
          `example ${i} has ${exampleLength(dataset, i)} tokens, more than fixedLength ${options.fixedLength}`,
        );
      }
    }
  }
}

/** The example order of one epoch, already grouped into batches. */
export function batchOrder(dataset: TokenizedDataset, options: BatchOptions): Int32Array[] {
  checkOptions(dataset, options);
  const { batchSize } = options;
  const random = seededRandom(options.seed ?? 0, options.epoch ?? 0);
  const order = Int32Array.from({ length: dataset.size }, (_, i) => i);
  if (options.shuffle ?? true) shuffleInPlace(order, random);
  if (options.bucketing) {
    const chunk = batchSize * (options.bucketing === true ? 50 : Math.max(1, options.bucketing.bucketBatches));
    for (let start = 0; start < order.length; start += chunk)
      sortChunk(dataset, order.subarray(start, Math.min(order.length, start + chunk)));
  }
  const batches: Int32Array[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const end = Math.min(order.length, start + batchSize);
    if (end - start < batchSize && options.dropLast) break;
    batches.push(order.slice(start, end));
  }
  if (options.bucketing && (options.shuffle ?? true)) shuffleInPlace(batches, random);
  return batches;
}

/** Orders a chunk by each example's length quantile within its label (regression: one group). */
function sortChunk(dataset: TokenizedDataset, chunk: Int32Array): void {
  const groups = new Map<number, number[]>();
  for (const index of chunk) {
    const key = dataset.labels && !dataset.isRegression ? (dataset.labels[index] as number) : 0;
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  }
  const keyed: { index: number; quantile: number; length: number }[] = [];
  for (const group of groups.values()) {
    // Stable sort by length keeps the shuffled order among equal lengths.
    group.sort((a, b) => exampleLength(dataset, a) - exampleLength(dataset, b));
    group.forEach((index, rank) => {
      keyed.push({ index, quantile: (rank + 0.5) / group.length, length: exampleLength(dataset, index) });
    });
  }
  keyed.sort((a, b) => a.quantile - b.quantile || a.length - b.length || a.index - b.index);
  keyed.forEach((k, i) => {
    chunk[i] = k.index;
  });
}

/** Builds one batch from dataset rows: padding with the tokenizer's pad id, mask 0 and segment 0. */
export function collate(
  dataset: TokenizedDataset,
  indices: Int32Array,
  options: Pick<BatchOptions, 'fixedLength' | 'padToMultipleOf'> = {},
): DataBatch {
  let seqLen = options.fixedLength ?? 0;
  if (options.fixedLength === undefined) {
    for (const i of indices) seqLen = Math.max(seqLen, exampleLength(dataset, i));
    const multiple = options.padToMultipleOf ?? 1;
    seqLen = Math.max(1, Math.ceil(seqLen / multiple) * multiple);
  }
  const batchSize = indices.length;
  const inputIds = new Int32Array(batchSize * seqLen).fill(dataset.padId);
  const attentionMask = new Uint8Array(batchSize * seqLen);
  const tokenTypeIds = new Int32Array(batchSize * seqLen);
  indices.forEach((index, row) => {
    const start = dataset.offsets[index] as number;
    const length = exampleLength(dataset, index);
    if (length > seqLen)
      throw new HealbertError('ERR_ARGUMENT', `example ${index} has ${length} tokens, more than the batch length ${seqLen}`);
    inputIds.set(dataset.ids.subarray(start, start + length), row * seqLen);
    attentionMask.fill(1, row * seqLen, row * seqLen + length);
    for (let k = 0; k < length; k++) tokenTypeIds[row * seqLen + k] = dataset.typeIds[start + k] as number;
  });
  const batch: DataBatch = { batchSize, seqLen, inputIds, attentionMask, tokenTypeIds, indices };
  if (dataset.labels) {
    const labels = dataset.labels instanceof Float32Array ? new Float32Array(batchSize) : new Int32Array(batchSize);
    indices.forEach((index, row) => {
      labels[row] = dataset.labels?.[index] as number;
    });
    batch.labels = labels;
  }
  return batch;
}

/** One epoch of batches, in a deterministic order (see batchOrder). */
export function* iterateBatches(dataset: TokenizedDataset, options: BatchOptions): Generator<DataBatch> {
  for (const indices of batchOrder(dataset, options)) yield collate(dataset, indices, options);
}
