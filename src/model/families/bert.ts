/** BERT (BertForSequenceClassification, and BertForMaskedLM's head for pre-training and MLM healing). */
import { BUFFERS, bertEmbeddingNames, bertLayerNames, readBertLike } from './bert-like.js';
import type { Family } from './types.js';

export const bert: Family = {
  name: 'bert',
  modelTypes: ['bert'],
  classes: { sequence: 'BertForSequenceClassification', maskedLm: 'BertForMaskedLM' },
  prefix: 'bert',
  bareRoots: ['embeddings.', 'encoder.', 'pooler.'],
  ignored: [/^cls\./, /^qa_outputs\./, ...BUFFERS],
  names: {
    ...bertEmbeddingNames('bert.embeddings'),
    layer: bertLayerNames('bert.encoder.layer.{i}'),
    headDense: { name: 'bert.pooler.dense', pooler: true },
    classifier: 'classifier',
    mlm: {
      dense: 'cls.predictions.transform.dense',
      norm: 'cls.predictions.transform.LayerNorm',
      bias: 'cls.predictions.bias',
      decoder: 'cls.predictions.decoder',
    },
  },
  structure: {
    positions: 'absolute',
    attentionOutputDropout: true,
    ffnOutputDropout: true,
    headDropoutBeforeDense: false,
    headActivation: 'tanh',
  },
  read: (f) => readBertLike(f),
};
