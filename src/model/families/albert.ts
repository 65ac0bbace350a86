/**
 * ALBERT: factorised embeddings (embedding_size wide, then embedding_hidden_mapping_in), layers that share
 * their tensors in num_hidden_groups groups, BERT's pooler, and no dropout on the FFN output.
 */
import { HealbertError } from '../../errors.js';
import type { ConfigFields } from '../config-fields.js';
import { BUFFERS, bertEmbeddingNames, readBertLike } from './bert-like.js';
import type { Family, FamilyConfig } from './types.js';

function readAlbert(f: ConfigFields): FamilyConfig {
  f.only('inner_group_num', [1], 1, 'each layer group must hold one layer (inner_group_num > 1 is not implemented)');
  // AlbertConfig's defaults: gelu_new, no dropout in the encoder, embeddings 128 wide.
  const c = readBertLike(f, { hiddenAct: 'gelu_new', dropout: 0, embeddingSize: 128 });
  const groups = f.int('num_hidden_groups', 1);
  if (groups > c.numLayers)
    throw new HealbertError('ERR_CHECKPOINT', `${f.source}: num_hidden_groups ${groups} exceeds num_hidden_layers ${c.numLayers}`);
  return { ...c, classifierDropout: f.probability('classifier_dropout_prob', 0.1), numLayerGroups: groups };
}

const layer = 'albert.encoder.albert_layer_groups.{i}.albert_layers.0';

export const albert: Family = {
  name: 'albert',
  modelTypes: ['albert'],
  classes: { sequence: 'AlbertForSequenceClassification' },
  prefix: 'albert',
  bareRoots: ['embeddings.', 'encoder.', 'pooler.'],
  ignored: [/^predictions\./, /^sop_classifier\./, ...BUFFERS],
  names: {
    ...bertEmbeddingNames('albert.embeddings'),
    projection: 'albert.encoder.embedding_hidden_mapping_in',
    layer: {
      query: `${layer}.attention.query`,
      key: `${layer}.attention.key`,
      value: `${layer}.attention.value`,
      attentionOutput: `${layer}.attention.dense`,
      attentionNorm: `${layer}.attention.LayerNorm`,
      ffnIn: `${layer}.ffn`,
      ffnOut: `${layer}.ffn_output`,
      ffnNorm: `${layer}.full_layer_layer_norm`,
    },
    headDense: { name: 'albert.pooler', pooler: true },
    classifier: 'classifier',
  },
  structure: {
    positions: 'absolute',
    attentionOutputDropout: true,
    ffnOutputDropout: false,
    headDropoutBeforeDense: false,
    headActivation: 'tanh',
  },
  read: readAlbert,
  alwaysProjects: true,
};

/** The layer group each encoder layer uses, as AlbertTransformer picks it: int(i / (layers / groups)). */
export function layerGroupOf(layer: number, numLayers: number, numGroups: number): number {
  return Math.trunc(layer / (numLayers / numGroups));
}
