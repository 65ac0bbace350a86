/**
 * A model family as data (DESIGN.md, "Many architectures, one engine"): the checkpoint-name templates of its
 * tensors, the few options in which its forward pass differs from BERT's, and how its config.json reads. The
 * layout (src/model/layout.ts) and the engine (native/engine/encoder.cc) read descriptors; nothing switches on
 * a family's name.
 */
import type { ConfigFields } from '../config-fields.js';
import type { EngineConfig, FamilyName, ModelStructure } from '../engine-config.js';

export type { FamilyName, ModelStructure } from '../engine-config.js';

/** Checkpoint names of one encoder layer's tensors (no .weight/.bias); `{i}` is the layer (or layer group). */
export interface LayerNames {
  query: string;
  key: string;
  value: string;
  attentionOutput: string;
  attentionNorm: string;
  ffnIn: string;
  ffnOut: string;
  ffnNorm: string;
}

/** Checkpoint names (no .weight/.bias) of a family's tensors outside the layers, and its layers' names. */
export interface FamilyNames {
  word: string;
  position: string;
  /** Absent: no token types (DistilBERT). */
  tokenType?: string;
  embeddingsNorm: string;
  /** The projection from the embeddings' width to the hidden size (ELECTRA, ALBERT). */
  projection?: string;
  layer: LayerNames;
  /** The dense of the head: the pooler (BERT, ALBERT: not a task head) or the head's own dense layer. */
  headDense: { name: string; pooler: boolean };
  classifier: string;
  /** BERT's masked-language-model head (BertForMaskedLM's cls.predictions.*). */
  mlm?: { dense: string; norm: string; bias: string; decoder: string };
  /**
   * ELECTRA pre-training: the discriminator's replaced-token-detection head (ElectraForPreTraining) and the
   * generator's masked-LM head (ElectraForMaskedLM; its decoder is the shared word embeddings).
   */
  pretraining?: { rtdDense: string; rtdPrediction: string; generatorDense: string; generatorNorm: string; generatorBias: string };
}

/** The sizes and options a family's config.json gives (the rest of EngineConfig is the head's and common). */
export type FamilyConfig = Omit<EngineConfig, 'arch' | 'structure' | 'numLabels' | 'head' | 'mlmHead' | 'mlmTied'> & {
  /** Layer groups sharing tensors (ALBERT's num_hidden_groups); absent: every layer its own. */
  numLayerGroups?: number;
};

/** A model family: its names, its structure and how its config.json reads (see the top of this file). */
export interface Family {
  name: FamilyName;
  /** config.json model_type values read as this family. */
  modelTypes: string[];
  /** Hugging Face classes: the one a saved folder names, and the masked-LM one where healbert has its head. */
  classes: { sequence: string; maskedLm?: string };
  /** The base model's prefix in checkpoint keys ("bert" in bert.encoder...). */
  prefix: string;
  /** Roots of base-model keys saved without the prefix ("encoder.layer.0..." in a bare BertModel folder). */
  bareRoots: string[];
  /** Checkpoint keys recognised and not used by a classification model (pre-training heads, buffers). */
  ignored: RegExp[];
  /** Ignored keys worth a note when loading (e.g. an ELECTRA folder's generator), with the note. */
  notes?: { pattern: RegExp; note: string }[];
  names: FamilyNames;
  structure: ModelStructure;
  /** Reads config.json; an option the engine does not implement is an ERR_CONFIG naming it. */
  read(f: ConfigFields): FamilyConfig;
  /** The projection is always there (ALBERT), not only when the widths differ (ELECTRA). */
  alwaysProjects?: boolean;
}
