/** The config.json keys BERT, RoBERTa, ELECTRA and ALBERT share, and BERT's layer names under a prefix. */
import { activationOf, type ConfigFields } from '../config-fields.js';
import type { FamilyConfig, LayerNames } from './types.js';

/** Defaults where a family's config class differs from BertConfig's. */
export interface BertLikeDefaults {
  hiddenAct?: string;
  dropout?: number;
  padTokenId?: number;
  embeddingSize?: 'hidden' | number;
}

export function readBertLike(f: ConfigFields, defaults: BertLikeDefaults = {}): FamilyConfig {
  f.only('position_embedding_type', ['absolute'], 'absolute', 'only absolute position embeddings are implemented');
  const hiddenSize = f.int('hidden_size');
  const hiddenDropout = f.probability('hidden_dropout_prob', defaults.dropout ?? 0.1);
  const embedding = defaults.embeddingSize ?? 'hidden';
  return {
    vocabSize: f.int('vocab_size'),
    hiddenSize,
    embeddingSize: embedding === 'hidden' ? hiddenSize : f.int('embedding_size', embedding),
    numLayers: f.int('num_hidden_layers'),
    numHeads: f.int('num_attention_heads'),
    intermediateSize: f.int('intermediate_size'),
    maxPositions: f.int('max_position_embeddings', 512),
    typeVocabSize: f.int('type_vocab_size', 2),
    padTokenId: f.int('pad_token_id', defaults.padTokenId ?? 0, 0),
    layerNormEps: f.positive('layer_norm_eps', 1e-12),
    activation: activationOf(f, 'hidden_act', defaults.hiddenAct ?? 'gelu'),
    hiddenDropout,
    attentionDropout: f.probability('attention_probs_dropout_prob', defaults.dropout ?? 0.1),
    classifierDropout: f.raw.classifier_dropout == null ? hiddenDropout : f.probability('classifier_dropout', hiddenDropout),
    initializerRange: f.positive('initializer_range', 0.02),
  };
}

/** BertLayer's tensor names under `base` ("bert.encoder.layer.{i}"). */
export function bertLayerNames(base: string): LayerNames {
  return {
    query: `${base}.attention.self.query`,
    key: `${base}.attention.self.key`,
    value: `${base}.attention.self.value`,
    attentionOutput: `${base}.attention.output.dense`,
    attentionNorm: `${base}.attention.output.LayerNorm`,
    ffnIn: `${base}.intermediate.dense`,
    ffnOut: `${base}.output.dense`,
    ffnNorm: `${base}.output.LayerNorm`,
  };
}

/** The embeddings' names under `base` ("bert.embeddings"). */
export function bertEmbeddingNames(base: string) {
  return {
    word: `${base}.word_embeddings`,
    position: `${base}.position_embeddings`,
    tokenType: `${base}.token_type_embeddings`,
    embeddingsNorm: `${base}.LayerNorm`,
  };
}

/** Buffers some checkpoints carry: never parameters. */
export const BUFFERS = [/\.position_ids$/, /\.token_type_ids$/];
