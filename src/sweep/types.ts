/**
 * The shapes of a sweep: the spec a user writes, the cells it expands into, and the results on disk.
 * The results format is the contract between sweeps (src/sweep) and analysis (src/analysis).
 *
 * A sweep folder:
 *   spec.json                 the resolved spec (defaults filled in)
 *   cells/<id>/config.json    a cell's resolved configuration
 *   inputs.json               the sha256 of every input file (model, tokenizer, data), with its size/mtime/inode
 *   cells/<id>/result.json    written once, atomically, when the cell ends (done, diverged or failed)
 *   cells/<id>/result.stale-<date>.json   a result set aside by --recompute-changed (its inputs changed)
 *   cells/<id>/lock           held while a worker runs the cell (its heartbeat is the file's mtime)
 *   cells/<id>/model/         finetuned protocol, clean baselines only: the fine-tuned task model
 *                             (its corrupted cells and its control start from it)
 *   index.jsonl               a line per result, appended as each fleet ends (a cell's last line wins; index-file.ts):
 *                             what status, export and analysis read
 *   fleets.json               the fleet sizes `auto` chose on CUDA, per model (fleet.ts), kept for every later run
 */
import type { CorruptionSpec, ResolvedCorruptionSpec } from '../corruption/spec.js';
import type { MeasureSpec, ResolvedMeasure } from '../measure/spec.js';
import type { CellMeasurements } from '../measure/types.js';

/** pretrained: corrupt the pretrained model, then fine-tune; finetuned: corrupt a fine-tuned task model, then heal it. */
export type Protocol = 'pretrained' | 'finetuned';

/** The fine-tuning recipe (transformers' run_glue defaults). */
export interface Recipe {
  lr: number;
  batchSize: number;
  epochs: number;
  maxLength: number;
  /** Share of the optimizer steps spent warming up. */
  warmupRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Evaluation batch size. */
  evalBatchSize: number;
  /**
   * Batches of examples of similar length (as transformers' group_by_length: chunks of 50 batches, each
   * sorted by length, batch order shuffled): less padding, the same examples per epoch. Off by default
   * (and then absent from the config, so cell ids do not change).
   */
  groupByLength?: boolean;
}

/** The linear probe on frozen first-token features that measures damage before fine-tuning. */
export interface ProbeRecipe {
  epochs: number;
  lr: number;
  batchSize: number;
  /** L2 penalty on the probe's weights. */
  l2: number;
}

/** How corrupted models heal: what trains, learning-rate shaping, MLM healing and the finetuned protocol's epochs. */
export interface Recovery {
  /** Fine-tune only the corrupted parameters and the task head. */
  freezeUncorrupted: boolean;
  /** Layer-wise learning-rate decay: layer l gets lr * decay^(L-1-l), embeddings decay^L; 1 = off. */
  layerDecay: number;
  /** Learning-rate multiplier for corrupted parameters. */
  corruptedLrMultiplier: number;
  /** Masked-language-model steps on `mlmCorpus` before fine-tuning (BERT only); 0 = off. */
  mlmSteps: number;
  mlmCorpus?: string;
  mlmLr: number;
  /** finetuned protocol: epochs of continued fine-tuning that heal the corrupted task model. */
  healEpochs: number;
}

/** The model a sweep starts from: its name in reports, its folder, and (ALBERT) whether its layers are untied. */
export interface ModelRef {
  name: string;
  path: string;
  /**
   * ALBERT: give every layer its own copy of its shared group's tensors when loading, so that layers can be
   * corrupted one by one (src/model/config.ts, untieLayers). Recorded only when true.
   */
  untieLayers?: boolean;
}

/** The task a sweep fine-tunes on: its name, data folder, training subset and evaluation split. */
export interface TaskRef {
  name: string;
  data: string;
  /** Use this many training examples, a fixed subset (drawn with `subsetSeed`, the same for every cell). */
  trainExamples?: number;
  subsetSeed: number;
  /** Evaluation split (GLUE: dev; MNLI: dev_matched). */
  evalSplit: string;
  /** Evaluate on this many examples of it, a fixed subset (for quick runs); default all. */
  evalExamples?: number;
}

/** One experiment: everything that decides its result. Its id is a hash of this object. */
export interface CellConfig {
  protocol: Protocol;
  model: ModelRef;
  task: TaskRef;
  /** null: the clean baseline (or, with `control`, its control). */
  corruption: (ResolvedCorruptionSpec & { label: string }) | null;
  /**
   * finetuned protocol only: the control of a clean baseline. It loads the baseline's task model and heals
   * it exactly as the corrupted cells do (same recovery, seeds, batches and dropout) with no corruption, so
   * that the residual gap compares healed with healed: without it, the extra epochs of healing count as
   * recovery whenever the task model was not converged. Absent on every other cell (ids do not change).
   */
  control?: true;
  seed: number;
  recipe: Recipe;
  probe: ProbeRecipe;
  recovery: Recovery;
  /** What the cell measures beyond its scores (src/measure/spec.ts); absent when nothing (ids do not change). */
  measure?: ResolvedMeasure;
  device: string;
  dtype: 'float32' | 'bfloat16';
}

/** Metric name -> value (e.g. accuracy, f1, mcc). */
export type MetricValues = Record<string, number>;

/** One evaluated epoch of fine-tuning: the steps so far, the training loss, the scores and the seconds. */
export interface EpochRecord {
  epoch: number;
  /** Optimizer steps so far. */
  step: number;
  trainLoss: number;
  metrics: MetricValues;
  seconds: number;
}

/** A cell's result.json: its status, config, scores at every stage, corruption report, timings and versions. */
export interface CellResult {
  format: 1;
  id: string;
  status: 'done' | 'diverged' | 'failed';
  config: CellConfig;
  /** The clean cell this one is compared with (null for a clean cell; a control names its baseline). */
  baselineId: string | null;
  /** The task's main metric (the first of its metric list). */
  primaryMetric: string;
  scores: {
    /** pretrained protocol: linear-probe score on frozen features (after corruption, for corrupted cells). */
    probe?: MetricValues;
    /** finetuned protocol: the task model's score before corruption (the baseline's final score; a control's start). */
    beforeCorruption?: MetricValues;
    /** finetuned protocol: right after corruption, before healing. */
    afterCorruption?: MetricValues;
    /** Evaluation after every epoch of (re)training: the recovery curve. */
    epochs: EpochRecord[];
    /** After the last epoch (missing when the cell diverged or failed before it). */
    final?: MetricValues;
  };
  corruption?: {
    tensors: number;
    entries: number;
    changed: number | null;
    relativeChange: number | null;
    nonFinite: number | null;
    /** Per layer (and embeddings/pooler/head) as in CorruptionReport.groups. */
    groups: { group: string; layer: number; entries: number; changed: number | null; relativeChange: number | null }[];
    /** Per (layer, head) when the corruption names heads, as in CorruptionReport.heads. */
    heads?: { layer: number; head: number; entries: number; changed: number | null }[];
    /** What the corruption reaches beyond its tensors, as in CorruptionReport.notes (DeBERTa's shared keys). */
    notes?: string[];
  };
  /** What config.measure asked for (src/measure/types.ts), with what each measurement cost. */
  measurements?: CellMeasurements;
  /** Why the cell diverged (first non-finite loss) or failed (the error). */
  error?: { code: string; message: string; step?: number };
  /** Seconds per phase; in a fleet, the fleet's (shared by its cells). probeFit: the linear probe's fit alone, a part
   * of probe (the rest of probe is the forward passes that make its features). */
  timings: Record<string, number>;
  /** The sha256 of every file the cell read (absolute path -> hex), recorded when the sweep started. */
  inputs?: Record<string, string>;
  /**
   * Set when the cell ran in a fleet: how many cells shared its steps, which member it was, and the fleet's
   * cells in member order (absent in results from before fleets were planned with the sweep). A member's
   * result is its solo result up to round-off that depends on the fleet (fleet-plan.ts).
   */
  fleet?: { size: number; member: number; cells?: string[] };
  device: string;
  versions: { healbert: string; libtorch: string; node: string };
  worker: { host: string; pid: number };
  startedAt: string;
  finishedAt: string;
}

/** The user-facing spec (JSON or YAML); resolved with defaults by resolveSweepSpec. */
export interface SweepSpec {
  name?: string;
  protocol?: Protocol;
  models: (string | Partial<ModelRef>)[];
  tasks: (string | Partial<TaskRef>)[];
  /** Corruptions to compare with the clean model; each may vary fields over a grid (or zipped). */
  corruptions?: CorruptionEntry[];
  seeds?: number[];
  recipe?: Partial<Recipe>;
  probe?: Partial<ProbeRecipe>;
  recovery?: Partial<Recovery>;
  /** Measurements beyond the scores: representation similarity, weight space, MLM knowledge (src/measure/spec.ts). */
  measure?: MeasureSpec;
  device?: string;
  /**
   * Cells that differ only in their corruption train together, K per step, as the members of one model
   * (default "auto": 1 on the CPU, what fits in memory on CUDA, at most 8). The fleets are fixed by the
   * cells and K; a member's result is its solo result up to round-off, and records its fleet.
   */
  fleet?: number | 'auto';
  /**
   * Compute dtype (default float32, the same results on every machine). 'auto': bfloat16 on CUDA and on
   * CPUs with native bf16 that measure it at least 1.5x faster, else float32; resolved once per results
   * folder (src/sweep/dtype.ts), and the resolved dtype is what the cells record.
   */
  dtype?: 'float32' | 'bfloat16' | 'auto';
  /** Instead of the grid: exactly these cells (e.g. the cells a Shapley estimate needs). */
  cells?: { model?: string; task?: string; corruption: CorruptionEntry | null; seed: number }[];
}

/** One corruption of a sweep spec: a corruption spec, the level optional where a sweep axis gives it, and a label. */
export type CorruptionEntry = Omit<CorruptionSpec, 'level'> & {
  level?: number;
  /** A name for reports; default derived from the method, targets and level. */
  label?: string;
  /** Dotted paths in this entry and the values they take, e.g. {"level": [0.1, 1], "targets.layers": ["bottom:2", "top:2"]}. */
  vary?: Record<string, unknown[]>;
  /** Vary the paths together (zip, all lists equally long) instead of over their grid. */
  zip?: boolean;
};

/** A cell as the sweep plans it: its id, its resolved config and (finetuned protocol) its clean baseline's id. */
export interface PlannedCell {
  id: string;
  config: CellConfig;
  baselineId: string | null;
}
