/** The data layer: task table, loaders, tokenized datasets with their cache, batches, metrics. */
export { type BatchOptions, batchOrder, collate, type DataBatch, iterateBatches } from './batches.js';
export { computeMetrics, type MetricResult } from './compute-metrics.js';
export type { Example, LoadedSplit, LoadOptions, SkippedRow } from './examples.js';
export { loadSplit, splitPath } from './load-split.js';
export {
  accuracy,
  averageRanks,
  f1,
  METRIC_NAMES,
  type MetricName,
  macroF1,
  matthewsCorrelation,
  metric,
  pearson,
  spearman,
  weightedF1,
} from './metrics.js';
export { TEXT_CLASSIFICATION_PRESETS, type TextClassificationTask } from './presets.js';
export { type SplitSummary, summarizeSplit } from './summary.js';
export { type Column, GLUE_TASKS, type GlueTask, getTask, resolveSplit, type Task, taskNames } from './tasks.js';
export { deriveLabelMap, loadTextFile, type TextFileFormat, type TextFileOptions, type TextFileResult } from './text-files.js';
export { defaultCacheDir, type TokenizedSplit, type TokenizeSplitOptions, tokenizeSplit } from './tokenize-split.js';
export { exampleLength, type TokenizedDataset, type TokenizeOptions, tokenizeExamples } from './tokenized.js';
