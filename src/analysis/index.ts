/** The analysis and report API, re-exported by src/index.ts. */

export { type ReportFormat, writeReport } from '../report/render.js';
export { type Analysis, type AnalyzeOptions, analyze } from './analyze.js';
export type { BottomTopRow } from './bottom-top.js';
export { DEFINITIONS } from './definitions.js';
export type { DoseResponseSeries, Stage } from './dose-response.js';
export type { LogisticFit } from './fit.js';
export type { GroupSummary, StatusCounts } from './groups.js';
export { type Correlation, correlation, type PairedComparison, pairedComparison, seedsNeeded, signFlipP } from './hypothesis.js';
export type { LayerDoseRow } from './layer-table.js';
export { type CellStatus, type LoadedSweep, readSweep, type SweepCell } from './load.js';
export { MAX_EXACT_LAYERS, type PlannedCell, planShapleyCells, type ShapleyPlanOptions } from './plan.js';
export { planShapleySweep, type SweepPlanOptions } from './plan-from-sweep.js';
export type { CellMeasures } from './quantities.js';
export { exactShapley, permutationShapley, samplePermutations, shapleyInteraction } from './shapley.js';
export type { InteractionRow, ShapleyResult } from './shapley-analysis.js';
export { bootstrapInterval, type Interval, type Summary, summarize } from './stats.js';
export type { TrendRow } from './trends.js';
