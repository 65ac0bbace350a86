/**
 * The model config as the native engine takes it (native/engine/config.h), apart from the layout
 * (src/model/layout.ts): the sizes, the options of the forward pass and the head. Its own module, below both
 * the families (src/model/families, whose descriptors give the structure) and config.ts (which reads a
 * config.json into it), so that neither imports the other for it.
 */
import type { ActivationName } from './config-fields.js';

/** The families healbert runs (src/model/families). */
export type FamilyName = 'bert' | 'roberta' | 'xlm-roberta' | 'distilbert' | 'electra' | 'albert';

/** The forward pass's options (native/engine/config.h). */
export interface ModelStructure {
  /** Position ids from 0 (absolute), or from pad_token_id + 1 over the non-padding tokens (RoBERTa: offset). */
  positions: 'absolute' | 'offset';
  /** Dropout on the attention projection's output (DistilBERT has none). */
  attentionOutputDropout: boolean;
  /** Dropout on the FFN's output (ALBERT has none). */
  ffnOutputDropout: boolean;
  /** The classification head: [dropout] -> dense -> activation -> dropout -> classifier. */
  headDropoutBeforeDense: boolean;
  headActivation: ActivationName | 'tanh';
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
  /**
   * ELECTRA pre-training (replaced-token detection): the generator that shares this model's embedding tables
   * (native/engine/config.h). Read from a pre-training checkpoint's config.json (`healbert_generator`).
   */
  generator?: GeneratorSizes;
  /** The discriminator's loss weight (lambda, 50 in the paper) next to the generator's. */
  rtdWeight?: number;
}

/** The sizes of an ELECTRA pre-training model's generator. */
export interface GeneratorSizes {
  hiddenSize: number;
  numHeads: number;
  intermediateSize: number;
  numLayers: number;
}
