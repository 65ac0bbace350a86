/** DistilBERT: BERT's layers under other names, no token types, no dropout on the attention output. */
import { activationOf, type ConfigFields } from '../config-fields.js';
import { BUFFERS } from './bert-like.js';
import type { Family, FamilyConfig } from './types.js';

function readDistilbert(f: ConfigFields): FamilyConfig {
  f.only('sinusoidal_pos_embds', [false], false, 'only learned position embeddings are implemented');
  const hiddenSize = f.int('dim');
  return {
    vocabSize: f.int('vocab_size'),
    hiddenSize,
    embeddingSize: hiddenSize,
    numLayers: f.int('n_layers'),
    numHeads: f.int('n_heads'),
    intermediateSize: f.int('hidden_dim'),
    maxPositions: f.int('max_position_embeddings', 512),
    typeVocabSize: 0,
    padTokenId: f.int('pad_token_id', 0, 0),
    layerNormEps: 1e-12, // fixed in DistilBERT's modeling code
    activation: activationOf(f, 'activation', 'gelu'),
    hiddenDropout: f.probability('dropout', 0.1),
    attentionDropout: f.probability('attention_dropout', 0.1),
    classifierDropout: f.probability('seq_classif_dropout', 0.2),
    initializerRange: f.positive('initializer_range', 0.02),
  };
}

const layer = 'distilbert.transformer.layer.{i}';

export const distilbert: Family = {
  name: 'distilbert',
  modelTypes: ['distilbert'],
  classes: { sequence: 'DistilBertForSequenceClassification' },
  prefix: 'distilbert',
  bareRoots: ['embeddings.', 'transformer.'],
  ignored: [/^vocab_(transform|layer_norm|projector)\./, /^qa_outputs\./, ...BUFFERS],
  names: {
    word: 'distilbert.embeddings.word_embeddings',
    position: 'distilbert.embeddings.position_embeddings',
    embeddingsNorm: 'distilbert.embeddings.LayerNorm',
    layer: {
      query: `${layer}.attention.q_lin`,
      key: `${layer}.attention.k_lin`,
      value: `${layer}.attention.v_lin`,
      attentionOutput: `${layer}.attention.out_lin`,
      attentionNorm: `${layer}.sa_layer_norm`,
      ffnIn: `${layer}.ffn.lin1`,
      ffnOut: `${layer}.ffn.lin2`,
      ffnNorm: `${layer}.output_layer_norm`,
    },
    headDense: { name: 'pre_classifier', pooler: false },
    classifier: 'classifier',
  },
  structure: {
    positions: 'absolute',
    attentionOutputDropout: false,
    ffnOutputDropout: true,
    headDropoutBeforeDense: false,
    headActivation: 'relu',
  },
  read: readDistilbert,
};
