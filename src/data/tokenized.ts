/**
 * A tokenized dataset in flat typed arrays: every example's ids back to back, with offsets, so that 393k
 * MNLI pairs are four arrays rather than a million small ones. Batches are cut from it (./batches.ts).
 */
import { HealbertError } from '../errors.js';
import type { TruncationStrategy } from '../tokenizer/post-process.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { Example } from './examples.js';

/** Tokenized examples packed into flat typed arrays: ids and segment ids of every example, its offsets and labels. */
export interface TokenizedDataset {
  size: number;
  /** All token ids, example after example. */
  ids: Int32Array;
  /** Segment id per token (0 first text, 1 second), parallel to `ids`. */
  typeIds: Uint8Array;
  /** (size + 1): example i is ids[offsets[i]] .. ids[offsets[i+1]]. */
  offsets: Int32Array;
  /** Class ids, regression targets, or undefined for an unlabelled split. */
  labels: Int32Array | Float32Array | undefined;
  isRegression: boolean;
  padId: number;
  maxLength: number;
  tokenizerHash: string;
}

/** Options of {@link tokenizeExamples}: the maximum length, truncation and whether labels are regression targets. */
export interface TokenizeOptions {
  /** Longest example, special tokens included (e.g. 128). */
  maxLength: number;
  truncation?: TruncationStrategy;
  isRegression?: boolean;
}

/** The number of tokens of one example of a tokenized dataset. */
export function exampleLength(dataset: TokenizedDataset, index: number): number {
  return (dataset.offsets[index + 1] as number) - (dataset.offsets[index] as number);
}

class GrowingInt32 {
  data = new Int32Array(1 << 16);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
}

/** Tokenizes examples (texts or text pairs) into a {@link TokenizedDataset}; labels must be on all examples or none. */
export function tokenizeExamples(tokenizer: Tokenizer, examples: readonly Example[], options: TokenizeOptions): TokenizedDataset {
  const ids = new GrowingInt32();
  const types = new GrowingInt32();
  const offsets = new Int32Array(examples.length + 1);
  const hasLabels = examples.length > 0 && examples.every((e) => e.label !== undefined);
  if (!hasLabels && examples.some((e) => e.label !== undefined)) {
    throw new HealbertError('ERR_DATA', 'some examples have labels and some do not');
  }
  const isRegression = options.isRegression ?? false;
  const labels = hasLabels ? (isRegression ? new Float32Array(examples.length) : new Int32Array(examples.length)) : undefined;
  const encodeOptions = { maxLength: options.maxLength, truncation: options.truncation ?? 'longest_first' };
  examples.forEach((example, i) => {
    const encoding = tokenizer.encode(example.text, example.textPair, encodeOptions);
    for (let k = 0; k < encoding.inputIds.length; k++) {
      ids.push(encoding.inputIds[k] as number);
      types.push(encoding.tokenTypeIds[k] as number);
    }
    offsets[i + 1] = ids.length;
    if (labels) labels[i] = example.label as number;
  });
  return {
    size: examples.length,
    ids: ids.data.slice(0, ids.length),
    typeIds: Uint8Array.from(types.data.subarray(0, types.length)),
    offsets,
    labels,
    isRegression,
    padId: tokenizer.padId,
    maxLength: options.maxLength,
    tokenizerHash: tokenizer.hash,
  };
}
