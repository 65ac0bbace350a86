/**
 * The model config as the native engine takes it (native/engine/config.h), apart from the layout
 * (src/model/layout.ts): the sizes, the options of the forward pass and the head. Its own module, below both
 * the families (src/model/families, whose descriptors give the structure) and config.ts (which reads a
 * config.json into it), so that neither imports the other for it.
 */
import type { ActivationName } from './config-fields.js';

/** The families healbert runs (src/model/families). */
export type FamilyName = 'bert' | 'roberta' | 'xlm-roberta' | 'distilbert' | 'electra' | 'albert' | 'deberta-v2' | 'modernbert';

/**
 * The forward pass's options (native/engine/config.h). The optional ones default to BERT's choice; a family's
 * read() may override any of them from its config.json (ModelStructure in FamilyConfig).
 */
export interface ModelStructure {
  /**
   * Position ids from 0 (absolute), from pad_token_id + 1 over the non-padding tokens (RoBERTa: offset), or no
   * position embeddings at all (none: DeBERTa-v3's relative and ModernBERT's rotary attention carry positions).
   */
  positions: 'absolute' | 'offset' | 'none';
  /** Dropout on the attention projection's output (DistilBERT has none). */
  attentionOutputDropout: boolean;
  /** Dropout on the FFN's output (ALBERT has none). */
  ffnOutputDropout: boolean;
  /** The classification head: [dropout] -> dense -> activation -> dropout -> classifier. */
  headDropoutBeforeDense: boolean;
  headActivation: ActivationName | 'tanh';
  /**
   * post: LayerNorm after each residual sum (BERT). pre: LayerNorm before each block, layer 0's attention input
   * unnormalised where the layout has no norm for it, and a final norm after the last layer (ModernBERT).
   */
  norm?: 'post' | 'pre';
  /**
   * absolute: softmax(QK^T / sqrt(d)). disentangled: DeBERTa's content-to-position and position-to-content terms
   * over bucketed relative positions (EngineConfig.relative). rotary: rotary position embeddings on the query
   * and key, global or sliding-window layers (EngineConfig.rotary). Default absolute.
   */
  attention?: 'absolute' | 'disentangled' | 'rotary';
  /** plain: act(W_in x); glu: W_in's rows are [input; gate], act(input) * gate (ModernBERT's GeGLU). */
  ffn?: 'plain' | 'glu';
  /** The embeddings' LayerNorm after the projection, hidden wide (DeBERTa's embed_proj); default before it. */
  embeddingNormAfterProjection?: boolean;
  /** What the head pools: the first token (default) or the mean over the real tokens (ModernBERT's mean). */
  pooling?: 'first' | 'mean';
}

/** The family of a model config (src/model/families). */
export type Architecture = FamilyName;

/** The task head: classes, or one regression output. */
export type HeadKind = 'classification' | 'regression';

/** What the native engine needs (native/engine/config.h), without the layout (src/model/layout.ts). */
export interface EngineConfig {
  /** The family (src/model/families): its descriptor names the tensors and the structure. */
  arch: Architecture;
  vocabSize: number;
  hiddenSize: number;
  /** The embeddings' width (ELECTRA, ALBERT: embedding_size); hiddenSize elsewhere. */
  embeddingSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  padTokenId: number;
  layerNormEps: number;
  activation: ActivationName;
  hiddenDropout: number;
  attentionDropout: number;
  classifierDropout: number;
  initializerRange: number;
  numLabels: number;
  head: HeadKind;
  mlmHead: boolean;
  /** The MLM decoder is the word-embedding matrix (true, Hugging Face's default) or its own Linear. */
  mlmTied: boolean;
  /** The forward pass's options, from the family. */
  structure: ModelStructure;
  /** Layer groups that share their tensors (ALBERT's num_hidden_groups); absent: every layer its own. */
  sharedLayerGroups?: number;
  /** Each layer has its own copy of its group's tensors (ALBERT, untieLayers), loaded from the group's. */
  untied?: boolean;
  /** Dropout on the embeddings' output; absent: hiddenDropout (ModernBERT: embedding_dropout). */
  embeddingDropout?: number;
  /** Dropout on the attention block's output, where the structure has it; absent: hiddenDropout (ModernBERT: attention_dropout). */
  attentionOutputDropout?: number;
  /** Dropout inside the FFN, on its activation before the output projection (ModernBERT: mlp_dropout); absent: none. */
  ffnInnerDropout?: number;
  /** Dropout on the pooled state before the head's dense, where the structure has it; absent: classifierDropout (DeBERTa: pooler_dropout). */
  headInputDropout?: number;
  /**
   * Which Linear and LayerNorm tensors have a bias; absent: all. ModernBERT's attention_bias, mlp_bias, norm_bias
   * and classifier_bias (the head's dense); DeBERTa's embed_proj has none.
   */
  bias?: { attention?: boolean; ffn?: boolean; norm?: boolean; headDense?: boolean; projection?: boolean };
  /** DeBERTa's disentangled attention (structure.attention 'disentangled'). */
  relative?: RelativeAttention;
  /** ModernBERT's rotary attention (structure.attention 'rotary'). */
  rotary?: RotaryAttention;
  /** Fresh weights are truncated normals cut at +-initCutoff std (ModernBERT's initializer_cutoff_factor). */
  initCutoff?: number;
  /**
   * ELECTRA pre-training (replaced-token detection): the generator that shares this model's embedding tables
   * (native/engine/config.h). Read from a pre-training checkpoint's config.json (`healbert_generator`).
   */
  generator?: GeneratorSizes;
  /** The discriminator's loss weight (lambda, 50 in the paper) next to the generator's. */
  rtdWeight?: number;
}

/**
 * DeBERTa's relative positions: i - j through transformers' log buckets (make_log_bucket_position) when
 * `buckets` > 0, clamped to the 2 * span rows of the relative embeddings (span: buckets, else maxRelative).
 */
export interface RelativeAttention {
  /** position_buckets; <= 0: no buckets, relative positions as they are. */
  buckets: number;
  /** max_relative_positions (max_position_embeddings where the config says -1). */
  maxRelative: number;
  /** The content-to-position and position-to-content terms (pos_att_type). */
  c2p: boolean;
  p2c: boolean;
  /** share_att_key: the relative embeddings are projected by the content key and query projections. */
  shareKeys: boolean;
  /** norm_rel_ebd layer_norm: the relative embeddings go through the encoder LayerNorm first. */
  normalised: boolean;
}

/** ModernBERT's rotary attention: global layers see every token, local ones |i - j| <= window. */
export interface RotaryAttention {
  globalTheta: number;
  localTheta: number;
  /** Half the local attention window (local_attention / 2, rounded down). */
  window: number;
  /** The sliding-window layers (global_attn_every_n_layers, or layer_types). */
  localLayers: number[];
}

/** The rows of DeBERTa's relative embeddings: 2 * position_buckets, else 2 * max_relative_positions. */
export function relativeSpan(r: RelativeAttention): number {
  return r.buckets > 0 ? r.buckets : r.maxRelative;
}

/** The sizes of an ELECTRA generator (pre-training), beside the discriminator it shares embeddings with. */
export interface GeneratorSizes {
  hiddenSize: number;
  numHeads: number;
  intermediateSize: number;
  numLayers: number;
}
