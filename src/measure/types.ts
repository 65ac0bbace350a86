/**
 * What a cell's `measurements` hold (result.json), for the measure kinds its config asked for
 * (src/measure/spec.ts). The contract between the measuring cell (src/measure/cell.ts) and analysis
 * (src/analysis/measurements.ts).
 *
 * Layers are numbered as parameters are: -1 is the embeddings (for representations: the embeddings'
 * output), 0..L-1 the encoder layers (a layer's output).
 */
import type { CkaEstimator } from './cka.js';

export type Pooling = 'mean' | 'first';
/** The order of the poolings in the engine's (L + 1, 2, B, H) blocks (native/engine/layer_states.h). */
export const POOLINGS: readonly Pooling[] = ['mean', 'first'];

/** CKA of one layer's representations, pooled as the mean over real tokens and as the first token. */
export interface CkaLayer {
  layer: number;
  mean: number | null;
  first: number | null;
}

export interface CellCka {
  estimator: CkaEstimator;
  /** Evaluation examples compared (the same fixed subset in every cell of a sweep). */
  examples: number;
  /**
   * Corrupted cells: the model before corruption against the corrupted model, before any healing (where
   * the damage sits). pretrained protocol: the pre-trained model; finetuned: the task model.
   */
  beforeHealing?: CkaLayer[];
  /**
   * Corrupted cells and controls: the clean fine-tuned model against this cell's final model (where damage
   * remains). pretrained protocol: the clean cell of the same seed after fine-tuning; finetuned: the task
   * model (the clean cell of the same seed), so for a control it is what healing alone changed.
   */
  afterHealing?: CkaLayer[];
  /** Every cell: the model before corruption against this cell's final model (what all training changed). */
  fromStart?: CkaLayer[];
  /** Why a comparison is missing. */
  notes?: string[];
}

/** Sums over the entries of a set of tensors, model value a against reference value b, in float64. */
export interface WeightSums {
  numel: number;
  /** sum a*b */
  dot: number;
  /** sum a^2 */
  modelSq: number;
  /** sum b^2 */
  referenceSq: number;
  /** sum (a - b)^2 */
  diffSq: number;
}

/** One component of one layer (parameter components: attention.query, ffn.output, embeddings.word, pooler ...). */
export interface WeightGroup {
  layer: number;
  component: string;
  sums: WeightSums;
}

export interface CellWeights {
  /** The final weights against the pre-trained checkpoint's (tensors the checkpoint has). */
  toPretrained: WeightGroup[];
  /**
   * The final weights against the clean fine-tuned model's. pretrained protocol: the clean cell of the same
   * seed (in the same fleet, or the weights it saved); finetuned: the task model. Absent for that clean cell.
   */
  toClean?: WeightGroup[];
  /**
   * Re-initialised weight matrices (not biases and LayerNorms, which re-initialise to constants), against
   * their values before corruption: right after re-initialisation, and after healing.
   */
  reinit?: { layer: number; component: string; atReinit: WeightSums; healed: WeightSums }[];
  /** Per epoch of (re)training and layer: sum of squares of the epoch's update, and of the weights before it. */
  updates: { epoch: number; layer: number; updateSq: number; weightSq: number }[];
  notes?: string[];
}

export interface MlmScores {
  /** Mean cross-entropy over the masked positions. */
  loss: number;
  /** Share of the masked positions predicted exactly. */
  accuracy: number;
}

export interface CellMlm {
  /** Evaluation examples, masked as BERT masks (15%; 80/10/10), the same masks in every cell. */
  examples: number;
  /** Masked positions scored. */
  positions: number;
  /** The encoder before corruption (pretrained protocol: the checkpoint; finetuned: the task model). */
  beforeCorruption?: MlmScores;
  afterCorruption?: MlmScores;
  /** The final encoder under the checkpoint's original MLM head. */
  final?: MlmScores;
}

export interface CellMeasurements {
  cka?: CellCka;
  weights?: CellWeights;
  mlm?: CellMlm;
  /** Seconds each measurement added (in a fleet: the fleet's, shared by its cells, as timings are). */
  seconds: { cka?: number; weights?: number; mlm?: number };
}
