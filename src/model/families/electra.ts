/**
 * ELECTRA (ElectraForSequenceClassification; the discriminator of an ElectraForPreTraining folder): BERT's
 * layers, embeddings embedding_size wide with a projection to the hidden size where they differ, and a head
 * dropout -> dense -> GELU -> dropout -> out_proj on the first token (no pooler).
 */
import { BUFFERS, bertEmbeddingNames, bertLayerNames, readBertLike } from './bert-like.js';
import type { Family } from './types.js';

export const electra: Family = {
  name: 'electra',
  modelTypes: ['electra'],
  classes: { sequence: 'ElectraForSequenceClassification' },
  prefix: 'electra',
  bareRoots: ['embeddings.', 'embeddings_project.', 'encoder.'],
  ignored: [/^discriminator_predictions\./, /^generator_predictions\./, /^generator_lm_head\./, ...BUFFERS],
  notes: [
    {
      pattern: /^discriminator_predictions\./,
      note: "the discriminator's replaced-token-detection head (ElectraForPreTraining) is not part of a classifier",
    },
    {
      pattern: /^generator_(predictions|lm_head)\./,
      note: "an ELECTRA generator's masked-LM head (ElectraForMaskedLM): its encoder loads as a classifier's, its head is not used",
    },
  ],
  names: {
    ...bertEmbeddingNames('electra.embeddings'),
    projection: 'electra.embeddings_project',
    layer: bertLayerNames('electra.encoder.layer.{i}'),
    headDense: { name: 'classifier.dense', pooler: false },
    classifier: 'classifier.out_proj',
    pretraining: {
      rtdDense: 'discriminator_predictions.dense',
      rtdPrediction: 'discriminator_predictions.dense_prediction',
      generatorDense: 'generator_predictions.dense',
      generatorNorm: 'generator_predictions.LayerNorm',
      generatorBias: 'generator_lm_head.bias',
    },
  },
  structure: {
    positions: 'absolute',
    attentionOutputDropout: true,
    ffnOutputDropout: true,
    headDropoutBeforeDense: true,
    headActivation: 'gelu',
  },
  // ElectraConfig's default embedding_size is 128.
  read: (f) => readBertLike(f, { embeddingSize: 128 }),
};
