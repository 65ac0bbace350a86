/**
 * The shapes of a layer-sensitivity scan: the options a caller gives, the resolved configuration that is
 * written to scan.json and decides whether a rerun may resume, the per-seed records, and the table.
 *
 * A scan folder (--out):
 *   scan.json   config, clean score, every finished (target, seed) run; rewritten atomically after each run
 *   scan.csv    the table: one row per target (the clean model first)
 *   scan.svg    score per target with intervals, the clean score as a dashed reference line
 */
import type { CorruptionMethod, InitVariant, LayerSelector, TargetSpec } from '../corruption/spec.js';
import type { ProbeRecipe } from '../sweep/types.js';

/**
 * What one scan target is: one encoder layer, one component across the layers, one layer's component, one
 * layer's attention head, or one layer's group of FFN neurons.
 */
export type ScanEach = 'layer' | 'component' | 'layer.component' | 'head' | 'neuron';
/** How a corrupted model is scored: its own task head, or a linear probe on its first-token features. */
export type ScanEvaluation = 'head' | 'probe';

/** Options of {@link scan}: task, data, the corruption and what one target is, seeds, scoring and output folder. */
export interface ScanOptions {
  /** Task name (sst2, cola, stsb, ... see getTask). */
  task: string;
  /** Data root (a GLUE folder, or a preset's folder). */
  data: string;
  method: Exclude<CorruptionMethod, 'revert'>;
  /** sigma (gaussian), lambda (uniform), factor (scale), rate (bit-flip). */
  level?: number;
  relative?: boolean;
  init?: InitVariant;
  fraction?: number;
  bits?: 'any' | 'exponent';
  each: ScanEach;
  /** The layers scanned (each on its own for 'layer', together for 'component'). Default all. */
  layers?: LayerSelector | LayerSelector[];
  /** The components scanned (each on its own for 'component', together for 'layer'). Default: see SCAN_COMPONENTS. */
  components?: string[];
  kinds?: 'all' | 'weights' | 'biases';
  /** each 'head': the heads scanned in every scanned layer (as layers take them). Default all. */
  heads?: LayerSelector | LayerSelector[];
  /** each 'neuron': how many equal groups of consecutive FFN neurons each layer is cut into. Default 8. */
  neuronGroups?: number;
  /** Corruption seeds (each run corrupts with derivedSeed(seed, 'corruption'), as a sweep cell of that seed does). Default 0, 1, 2. */
  seeds?: number[];
  /** The evaluation split. Default dev (or validation). */
  split?: string;
  /** Evaluate on the first `rows` rows of the split (file order). Default all. */
  rows?: number;
  /** Probe only: train the probe on the first `trainRows` rows of the train split. Default 1000. */
  trainRows?: number;
  /** Default: 'head' when the model's task head came from its checkpoint (or the model was made in memory), else 'probe'. */
  evaluation?: ScanEvaluation | 'auto';
  /** Examples per forward pass. Default 64. */
  batchSize?: number;
  /** Tokens per example, special tokens included. Default 128. */
  maxLength?: number;
  probe?: Partial<ProbeRecipe>;
  /** Folder with the tokenizer files. Default: the folder the model was loaded from. */
  tokenizer?: string;
  /** A name for tables and figures. Default: the model folder's name. */
  modelName?: string;
  /** Write scan.json (incrementally), scan.csv and scan.svg here; a rerun with the same folder resumes. */
  out?: string;
  /** Tokenized-data cache (see tokenizeSplit). */
  cacheDir?: string | false;
  signal?: AbortSignal;
  /** Called with every progress event. */
  onEvent?: (event: ScanEvent) => void;
  /** Called after every restore, before the next run (tests check here that the weights are the clean ones). */
  afterRestore?: (info: { target: ScanTarget; seed: number }) => Promise<void> | void;
}

/** One target: a label and the corruption targets it stands for. */
export interface ScanTarget {
  label: string;
  layer: number | null;
  component: string | null;
  /** each 'head': the head. */
  head?: number;
  /** each 'neuron': the group's neurons [from, to). */
  neurons?: [number, number];
  targets: TargetSpec;
}

/** Everything that decides a scan's numbers; a rerun resumes only when this is equal. */
export interface ScanConfig {
  format: 1;
  /** untiedLayers: ALBERT's shared layer groups were untied before the scan (each layer its own copy). */
  model: { name: string; path: string | null; parameters: number; weightsSha256: string; untiedLayers?: boolean };
  task: {
    name: string;
    data: string;
    split: string;
    rows: number | null;
    /** sha256 of the evaluated rows as tokenized (ids, segments, labels): the data and the tokenizer. */
    evalSha256: string;
    examples: number;
    trainRows: number | null;
    trainSha256: string | null;
  };
  evaluation: ScanEvaluation;
  metric: string;
  corruption: {
    method: string;
    level: number;
    relative: boolean;
    init: string;
    fraction: number;
    bits: string;
    /** The engine's corruption random stream (CorruptionReport.streamVersion): other streams give other numbers. */
    streamVersion: number;
  };
  each: ScanEach;
  layers: number[];
  components: string[] | null;
  kinds: 'all' | 'weights' | 'biases';
  /** each 'head': the heads scanned (absent for other scans, so that their hashes stay as they were). */
  heads?: number[];
  /** each 'neuron': the groups per layer. */
  neuronGroups?: number;
  seeds: number[];
  /** No random numbers in the method (zero, sign-flip, scale on every entry): one seed is the whole answer. */
  deterministic: boolean;
  maxLength: number;
  batchSize: number;
  probe: ProbeRecipe | null;
  device: string;
  dtype: string;
  healbert: string;
}

/** One finished (target, seed) run of a scan: its score, metrics, what changed and how long each step took. */
export interface ScanRun {
  seed: number;
  /** The seed the corruption ran with: derivedSeed(seed, 'corruption'). */
  corruptionSeed: number;
  score: number;
  metrics: Record<string, number>;
  changed: number | null;
  relativeChange: number | null;
  nonFinite: number | null;
  /** Wall time of the corruption call (validation, the engine's pass with its exact report, synchronised). */
  corruptMs: number;
  evaluateSeconds: number;
  restoreMs: number;
  /** Wall time of the whole run: corrupt, evaluate, restore. */
  seconds: number;
}

/** A scan target as recorded in scan.json: what it corrupts and the seeds it runs. */
export interface ScanTargetRecord extends ScanTarget {
  /** The seeds this target runs: all of the config's, or the first only where the corruption draws no random numbers. */
  seeds: number[];
  tensors: number;
  parameters: number;
  runs: ScanRun[];
}

/** scan.json */
export interface ScanFile {
  format: 1;
  kind: 'healbert-scan';
  config: ScanConfig;
  configHash: string;
  versions: { healbert: string; libtorch: string; node: string };
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  notes: string[];
  clean: { score: number; metrics: Record<string, number>; seconds: number } | null;
  targets: ScanTargetRecord[];
}

/** One row of the table. */
export interface ScanRow {
  target: string;
  layer: number | null;
  component: string | null;
  head?: number;
  neurons?: [number, number];
  seeds: number[];
  scores: number[];
  /** Finite scores averaged. */
  n: number;
  /** Runs whose score was NaN (a model that outputs non-finite logits); never averaged in. */
  nonFinite: number;
  mean: number | null;
  sd: number | null;
  /** 95% t-interval of the mean over seeds; null with fewer than two finite scores. */
  ci: { low: number; high: number } | null;
  /** clean minus mean: positive is damage. */
  drop: number | null;
  /** Wall seconds of the target, all seeds. */
  seconds: number;
}

/** A finished scan: its configuration, the clean score, and one row per target. */
export interface ScanResult {
  config: ScanConfig;
  clean: { score: number; metrics: Record<string, number>; seconds: number };
  rows: ScanRow[];
  notes: string[];
  /** Runs done in this call, and runs found done in --out. */
  ran: number;
  resumed: number;
  /** Where the files went, when `out` was given. */
  files: { json: string; csv: string; svg: string } | null;
}

/** Progress events of {@link scan}. */
export type ScanEvent =
  | {
      type: 'scan-start';
      targets: number;
      seeds: number[];
      runs: number;
      done: number;
      evaluation: ScanEvaluation;
      metric: string;
      examples: number;
      notes: string[];
    }
  | { type: 'clean'; score: number; seconds: number; resumed: boolean }
  | { type: 'run'; index: number; total: number; target: string; seed: number; score: number; seconds: number; etaSeconds: number }
  | { type: 'target'; row: ScanRow }
  | { type: 'scan-end'; seconds: number };
