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
  /** Separate projections (BERT), or one fused (3H, H) projection, a head's rows in each third (qkv). */
  query?: string;
  key?: string;
  value?: string;
  qkv?: string;
  /** DeBERTa without share_att_key: the relative embeddings' own key and query projections. */
  positionKey?: string;
  positionQuery?: string;
  attentionOutput: string;
  attentionNorm: string;
  ffnIn: string;
  ffnOut: string;
  ffnNorm: string;
}

/** Checkpoint names (no .weight/.bias) of a family's tensors outside the layers, and its layers' names. */
export interface FamilyNames {
  word: string;
  /** Absent: no absolute positions (ModernBERT); DeBERTa's are read only with position_biased_input. */
  position?: string;
  /** Absent: no token types (DistilBERT). */
  tokenType?: string;
  embeddingsNorm: string;
  /** The projection from the embeddings' width to the hidden size (ELECTRA, ALBERT). */
  projection?: string;
  layer: LayerNames;
  /** DeBERTa's relative position embeddings and the encoder LayerNorm they go through (norm_rel_ebd). */
  relativeEmbeddings?: string;
  relativeNorm?: string;
  /** The norm after the last layer of a pre-norm encoder (ModernBERT's final_norm). */
  finalNorm?: string;
  /**
   * The dense of the head: the pooler (BERT, ALBERT, ModernBERT's head: pre-trained, not a task head) or the
   * head's own dense layer; `norm`, a LayerNorm after its activation (ModernBERT's head.norm).
   */
  headDense: { name: string; pooler: boolean; norm?: string };
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
  /** Where config.json changes the family's structure (DeBERTa's position_biased_input, pooler_hidden_act). */
  structure?: Partial<ModelStructure>;
};

/** How a fresh tensor is drawn where the family's initialisation is not BERT's N(0, initializer_range). */
export interface ParamInit {
  std: number;
  /** Truncated at +-cutoff std (torch.nn.init.trunc_normal_); absent: a plain normal. */
  cutoff?: number;
  /** drawn: the embeddings' padding row is drawn like the others (ModernBERT's trunc_normal_ overwrites it). */
  paddingRow?: 'zero' | 'drawn';
}

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
  /** config.json keys transformers types as float only: written with a decimal point when integral (model.ts). */
  floatKeys?: readonly string[];
  /** Layer 0 has no attention norm (ModernBERT: its input is the embeddings' norm already). */
  noFirstAttentionNorm?: boolean;
  /** A fresh tensor's initialisation by role, where it is not N(0, initializer_range) (ModernBERT). */
  initOf?(role: string, c: EngineConfig): ParamInit | undefined;
}
