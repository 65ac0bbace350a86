/** healbert's public API. */

// Types that the exported functions and classes take or return, exported so that callers can name them (and the
// API reference can show them).
export type { CurveSummary, HealingFinding } from './analysis/groups.js';
export type { HeadRow } from './analysis/head-table.js';
export * from './analysis/index.js';
export type {
  CkaComparison,
  CkaRow,
  CostRow,
  MeasurementAnalysis,
  MlmRow,
  Part,
  ReinitRow,
  UpdateRow,
  WeightRow,
} from './analysis/measurements.js';
export type { CurvePoint } from './analysis/quantities.js';
export type { ShapleyEstimate, ValueFunction } from './analysis/shapley.js';
export type { Quantity } from './analysis/shapley-analysis.js';
export type { BootstrapOptions } from './analysis/stats.js';
export type { Batch } from './batch.js';
export type { HeadChange, SliceChange } from './corruption/corrupt.js';
export { type CorruptionReport, type CorruptOptions, corrupt, type GroupChange, type TensorChange } from './corruption/corrupt.js';
export type { LayerSelector, ResolvedCorruptionSpec } from './corruption/spec.js';
export {
  type CorruptionMethod,
  type CorruptionSpec,
  corruptionSpecSchema,
  type InitVariant,
  resolveCorruptionSpec,
  type TargetSpec,
} from './corruption/spec.js';
export type { TargetDims, TargetParameter } from './corruption/targets.js';
export * from './data/index.js';
export type { Values } from './data/metrics.js';
export type { FileSplit } from './data/presets.js';
export type { TsvSplit } from './data/tasks.js';
export type { ErrorInfo } from './doctor.js';
export { type DoctorOptions, type DoctorReport, doctor } from './doctor.js';
export { chooseDtype, type DtypeChoice, type DtypeDecision, type DtypeFacts } from './dtype/choose.js';
export { type CpuBf16Info, cpuBf16Info } from './dtype/cpu.js';
export type { MatmulShape } from './dtype/measure.js';
export { type Bf16Speed, measureBf16Speed, resolveDtype } from './dtype/measure.js';
export { type ErrorCode, HealbertError, isHealbertError } from './errors.js';
export type { CkaEstimator } from './measure/cka.js';
export type { MeasureSpec, ResolvedMeasure } from './measure/spec.js';
export type {
  CellCka,
  CellMeasurements,
  CellMlm,
  CellWeights,
  CkaLayer,
  MlmScores,
  Pooling,
  WeightGroup,
  WeightSums,
} from './measure/types.js';
export type { LoadEntry, LoadPlan } from './model/checkpoint.js';
export type { GeneratorSizes, HeadKind, HeadOptions, RawConfig, RelativeAttention, RotaryAttention } from './model/config.js';
export { type EngineConfig, engineConfig, readRawConfig } from './model/config.js';
export type { ActivationName } from './model/config-fields.js';
export type { FamilyName, ModelStructure } from './model/families/types.js';
export { inspectModel, type ModelSummary } from './model/inspect.js';
export type { ComputeDtype, EngineInfo } from './model/model.js';
export {
  type LoadOptions as ModelLoadOptions,
  type MemberOption,
  Model,
  type ParameterInfo,
  type SaveOptions,
  type StepResult,
  type TrainingOptions,
} from './model/model.js';
export type { NativeRuntimeInfo, NativeSmokeResult, NativeStepResult } from './native/binding.js';
export type { ElectraEval } from './pretrain/electra.js';
export type { PretrainArchitecture } from './pretrain/model-config.js';
export { type PretrainEvent, type PretrainOptions, type PretrainSummary, pretrain } from './pretrain/pretrain.js';
export type { Cell as TableCell, Column as TableColumn, Table } from './report/table.js';
export * from './scan/index.js';
export type { ResolvedScanTarget, ScanTargetOptions } from './scan/targets.js';
export type { CellEvent } from './sweep/cell.js';
export { resolveSweepDtype } from './sweep/dtype.js';
export type { ExpandedCorruption, ExpandedSweep } from './sweep/expand.js';
export { expandSweep } from './sweep/expand.js';
export { exportResults, type StatusRow, type SweepStatus, sweepStatus } from './sweep/export.js';
export { kubernetesIndexedJob, type ManifestOptions, slurmArray } from './sweep/manifests.js';
export { runSweep, type SweepEvent, type SweepOptions, type SweepSummary } from './sweep/run.js';
export { type ResolvedSweepSpec, readSweepSpec, resolveSweepSpec, sweepSpecSchema } from './sweep/spec.js';
export type { FineTuneOptions, FineTuneResult, FleetStep } from './sweep/train.js';
export {
  evaluate,
  evaluateMembers,
  type FleetFineTuneOptions,
  type FleetFineTuneResult,
  fineTune,
  fineTuneMembers,
} from './sweep/train.js';
export type {
  CellConfig,
  CellResult,
  CorruptionEntry,
  EpochRecord,
  MetricValues,
  ModelRef,
  ProbeRecipe,
  Protocol,
  Recipe,
  Recovery,
  SweepSpec,
  TaskRef,
} from './sweep/types.js';
export * from './tokenizer/index.js';
export type { PrependScheme, SplitBehavior } from './tokenizer/pre-tokenizers.js';
export type { ByteLevelBpeModelSpec, UnigramModelSpec, WordPieceModelSpec } from './tokenizer/spec.js';
export { healbertVersion } from './version.js';
