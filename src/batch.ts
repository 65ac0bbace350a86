/**
 * A batch of tokenized examples as the native engine consumes it: row-major typed arrays of B rows by T
 * positions. The data layer (src/data) produces these; the model (src/model) consumes them.
 */
export interface Batch {
  /** B: number of examples. */
  batchSize: number;
  /** T: positions per example (the batch is padded to this length). */
  seqLen: number;
  /** (B*T) token ids, row-major. */
  inputIds: Int32Array;
  /** (B*T) 1 for real tokens, 0 for padding. Omitted: all ones. */
  attentionMask?: Uint8Array;
  /** (B*T) segment ids (0 for the first text, 1 for the second). Omitted: all zeros. Ignored by RoBERTa and DistilBERT. */
  tokenTypeIds?: Int32Array;
  /** (B) class ids (classification) or targets (regression, Float32Array). Required for training. */
  labels?: Int32Array | Float32Array;
  /** (B*T) for masked-language-model training: the original token id at masked positions, -100 elsewhere. */
  mlmLabels?: Int32Array;
}
