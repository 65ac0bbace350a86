/** healbert's public API. */
export * from './analysis/index.js';
export type { Batch } from './batch.js';
export { type CorruptionReport, type CorruptOptions, corrupt, type GroupChange, type TensorChange } from './corruption/corrupt.js';
export {
  type CorruptionMethod,
  type CorruptionSpec,
  corruptionSpecSchema,
  type InitVariant,
  resolveCorruptionSpec,
  type TargetSpec,
} from './corruption/spec.js';
export * from './data/index.js';
export { type DoctorOptions, type DoctorReport, doctor } from './doctor.js';
export { chooseDtype, type DtypeChoice, type DtypeDecision, type DtypeFacts } from './dtype/choose.js';
export { type CpuBf16Info, cpuBf16Info } from './dtype/cpu.js';
export { type Bf16Speed, measureBf16Speed, resolveDtype } from './dtype/measure.js';
export { type ErrorCode, HealbertError, isHealbertError } from './errors.js';
export { type EngineConfig, engineConfig, readRawConfig } from './model/config.js';
export { inspectModel, type ModelSummary } from './model/inspect.js';
export {
  type LoadOptions as ModelLoadOptions,
  type MemberOption,
  Model,
  type ParameterInfo,
  type SaveOptions,
  type StepResult,
  type TrainingOptions,
} from './model/model.js';
export { type PretrainEvent, type PretrainOptions, type PretrainSummary, pretrain } from './pretrain/pretrain.js';
export * from './scan/index.js';
export { resolveSweepDtype } from './sweep/dtype.js';
export { expandSweep } from './sweep/expand.js';
export { exportResults, type StatusRow, type SweepStatus, sweepStatus } from './sweep/export.js';
export { kubernetesIndexedJob, type ManifestOptions, slurmArray } from './sweep/manifests.js';
export { runSweep, type SweepEvent, type SweepOptions, type SweepSummary } from './sweep/run.js';
export { type ResolvedSweepSpec, readSweepSpec, resolveSweepSpec, sweepSpecSchema } from './sweep/spec.js';
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
  ModelRef,
  ProbeRecipe,
  Protocol,
  Recipe,
  Recovery,
  SweepSpec,
  TaskRef,
} from './sweep/types.js';
export * from './tokenizer/index.js';
export { healbertVersion } from './version.js';
