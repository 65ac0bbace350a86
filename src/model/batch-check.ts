/**
 * Structural checks of a Batch before it crosses into the engine: types and lengths. Value ranges (token
 * ids inside the vocabulary, labels inside the label set) are checked natively over the copied arrays.
 */
import type { Batch } from '../batch.js';
import { HealbertError } from '../errors.js';
import { type EngineConfig, maxSequenceLength } from './config.js';

function shape(message: string): never {
  throw new HealbertError('ERR_SHAPE', message);
}

export function checkBatch(batch: Batch, config: EngineConfig, needLabels: boolean): void {
  if (typeof batch !== 'object' || batch === null) throw new HealbertError('ERR_ARGUMENT', 'batch must be an object');
  const { batchSize: b, seqLen: t } = batch;
  if (!Number.isInteger(b) || b < 1) shape(`batch.batchSize must be an integer >= 1, got ${b}`);
  if (!Number.isInteger(t) || t < 1) shape(`batch.seqLen must be an integer >= 1, got ${t}`);
  const max = maxSequenceLength(config);
  if (t > max) shape(`batch.seqLen ${t} exceeds the model's maximum of ${max} positions`);
  const n = b * t;
  if (!(batch.inputIds instanceof Int32Array)) throw new HealbertError('ERR_ARGUMENT', 'batch.inputIds must be an Int32Array');
  if (batch.inputIds.length !== n) shape(`batch.inputIds has ${batch.inputIds.length} entries, expected batchSize x seqLen = ${n}`);
  if (batch.attentionMask !== undefined) {
    if (!(batch.attentionMask instanceof Uint8Array)) throw new HealbertError('ERR_ARGUMENT', 'batch.attentionMask must be a Uint8Array');
    if (batch.attentionMask.length !== n) shape(`batch.attentionMask has ${batch.attentionMask.length} entries, expected ${n}`);
  }
  if (batch.tokenTypeIds !== undefined) {
    if (!(batch.tokenTypeIds instanceof Int32Array)) throw new HealbertError('ERR_ARGUMENT', 'batch.tokenTypeIds must be an Int32Array');
    if (batch.tokenTypeIds.length !== n) shape(`batch.tokenTypeIds has ${batch.tokenTypeIds.length} entries, expected ${n}`);
  }
  if (batch.mlmLabels !== undefined) {
    if (!config.mlmHead && !config.generator)
      throw new HealbertError('ERR_ARGUMENT', 'batch.mlmLabels need a model with an MLM head (load it with mlmHead: true)');
    if (!(batch.mlmLabels instanceof Int32Array)) throw new HealbertError('ERR_ARGUMENT', 'batch.mlmLabels must be an Int32Array');
    if (batch.mlmLabels.length !== n) shape(`batch.mlmLabels has ${batch.mlmLabels.length} entries, expected ${n}`);
    if (batch.labels !== undefined) throw new HealbertError('ERR_ARGUMENT', 'a batch has either labels or mlmLabels, not both');
    return;
  }
  if (batch.labels === undefined) {
    if (needLabels) throw new HealbertError('ERR_ARGUMENT', 'training needs batch.labels');
    return;
  }
  const regression = config.head === 'regression';
  if (regression && !(batch.labels instanceof Float32Array)) {
    throw new HealbertError('ERR_ARGUMENT', 'this is a regression model: batch.labels must be a Float32Array');
  }
  if (!regression && !(batch.labels instanceof Int32Array)) {
    throw new HealbertError('ERR_ARGUMENT', 'this is a classification model: batch.labels must be an Int32Array of class ids');
  }
  if (batch.labels.length !== b) shape(`batch.labels has ${batch.labels.length} entries, expected batchSize = ${b}`);
}
