/**
 * RoBERTa and XLM-RoBERTa (and CamemBERT): BERT's layers, positions numbered after the padding id, and a head of
 * its own (dropout -> dense -> tanh -> dropout -> out_proj) instead of the pooler. XLM-R differs only in its
 * tokenizer and its class names.
 */

import { HealbertError } from '../../errors.js';
import type { ConfigFields } from '../config-fields.js';
import { BUFFERS, bertEmbeddingNames, bertLayerNames, readBertLike } from './bert-like.js';
import type { Family, FamilyConfig } from './types.js';

function readRoberta(f: ConfigFields): FamilyConfig {
  const c = readBertLike(f, { padTokenId: 1 });
  if (c.maxPositions <= c.padTokenId + 1)
    throw new HealbertError(
      'ERR_CHECKPOINT',
      `${f.source}: max_position_embeddings ${c.maxPositions} leaves no room after RoBERTa's position offset`,
    );
  return c;
}

const shared = {
  prefix: 'roberta',
  bareRoots: ['embeddings.', 'encoder.', 'pooler.'],
  ignored: [/^roberta\.pooler\./, /^lm_head\./, ...BUFFERS],
  names: {
    ...bertEmbeddingNames('roberta.embeddings'),
    layer: bertLayerNames('roberta.encoder.layer.{i}'),
    headDense: { name: 'classifier.dense', pooler: false },
    classifier: 'classifier.out_proj',
  },
  structure: {
    positions: 'offset',
    attentionOutputDropout: true,
    ffnOutputDropout: true,
    headDropoutBeforeDense: true,
    headActivation: 'tanh',
  },
  read: readRoberta,
} as const satisfies Omit<Family, 'name' | 'modelTypes' | 'classes'>;

export const roberta: Family = {
  name: 'roberta',
  modelTypes: ['roberta', 'camembert'],
  classes: { sequence: 'RobertaForSequenceClassification' },
  ...shared,
};

export const xlmRoberta: Family = {
  name: 'xlm-roberta',
  modelTypes: ['xlm-roberta'],
  classes: { sequence: 'XLMRobertaForSequenceClassification' },
  ...shared,
};
