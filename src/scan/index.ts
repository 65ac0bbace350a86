/** The layer-sensitivity scan: corrupt one target at a time, score, restore, move on. */
export { datasetSha256, firstRows } from './evaluate.js';
export { describeCorruption, formatScanTable } from './format.js';
export { checkpointHead, type LoadScanModelOptions, loadScanModel } from './load.js';
export { defaultEvaluation, SCAN_DEFAULTS, scan } from './scan.js';
export { tCritical, tInterval } from './stats.js';
export { configDifferences, scanPaths, scanTable } from './store.js';
export { expandScanTargets, SCAN_COMPONENTS, SCAN_EACH } from './targets.js';
export type {
  ScanConfig,
  ScanEach,
  ScanEvaluation,
  ScanEvent,
  ScanFile,
  ScanOptions,
  ScanResult,
  ScanRow,
  ScanRun,
  ScanTarget,
  ScanTargetRecord,
} from './types.js';
