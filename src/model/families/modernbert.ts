/**
 * ModernBERT (model_type modernbert; ModernBertForSequenceClassification): pre-norm layers (layer 0's attention
 * input is the embeddings' norm, unnormalised again) with a final norm, a fused Wqkv projection, rotary
 * position embeddings with a theta per layer type, every global_attn_every_n_layers-th layer global and the
 * others a sliding window (|i - j| <= local_attention / 2), a GeGLU FFN (Wi's rows are [input; gate]), no
 * biases by default, and a head pooling the first token or the mean of the real ones, then dense -> activation
 * -> norm -> dropout -> classifier. The head's dense and norm are ModernBertForMaskedLM's too, so they load from
 * a pre-training folder (the pooler's role); only the classifier starts fresh. Initialisation: truncated
 * normals with ModernBERT's per-component stds. Semantics: transformers 5.17's modeling_modernbert.py.
 */
import { HealbertError } from '../../errors.js';
import { activationOf, type ConfigFields } from '../config-fields.js';
import type { RotaryAttention } from '../engine-config.js';
import { BUFFERS } from './bert-like.js';
import type { Family, FamilyConfig } from './types.js';

const LAYER_TYPES = ['full_attention', 'sliding_attention'] as const;
type LayerType = (typeof LAYER_TYPES)[number];

/** rope_parameters[type].rope_theta, else global_rope_theta / local_rope_theta, else ModernBertConfig's defaults. */
function ropeTheta(f: ConfigFields, type: LayerType): number {
  const legacy = type === 'full_attention' ? 'global_rope_theta' : 'local_rope_theta';
  const fallback = type === 'full_attention' ? 160_000 : 10_000;
  if (f.raw.rope_scaling != null) f.only('rope_scaling', [null], null, 'scaled rotary embeddings are not implemented');
  const params = f.raw.rope_parameters as Record<string, Record<string, unknown> | null> | null | undefined;
  const own = params?.[type];
  if (own) {
    const kind = own.rope_type ?? 'default';
    if (kind !== 'default')
      throw new HealbertError(
        'ERR_CONFIG',
        `${f.source}: "rope_parameters.${type}.rope_type": ${JSON.stringify(kind)} is not supported (healbert runs "default"): scaled rotary embeddings are not implemented`,
      );
    if (own.rope_theta !== undefined) {
      if (typeof own.rope_theta !== 'number' || !(own.rope_theta > 0))
        f.invalid(`rope_parameters.${type}.rope_theta`, 'a positive number', own.rope_theta);
      return own.rope_theta;
    }
  }
  return f.positive(legacy, fallback);
}

/** Which layers are sliding-window ones: layer_types, else every layer but each global_attn_every_n_layers-th. */
function localLayers(f: ConfigFields, numLayers: number): number[] {
  const types = f.raw.layer_types;
  if (types != null) {
    if (!Array.isArray(types) || types.length !== numLayers || !types.every((t) => LAYER_TYPES.includes(t as LayerType)))
      f.invalid('layer_types', `a list of ${numLayers} "full_attention" / "sliding_attention" entries`, types);
    return types.flatMap((t, i) => (t === 'sliding_attention' ? [i] : []));
  }
  const every = f.int('global_attn_every_n_layers', 3);
  return Array.from({ length: numLayers }, (_, i) => i).filter((i) => i % every !== 0);
}

function readModernbert(f: ConfigFields): FamilyConfig {
  const hiddenSize = f.int('hidden_size', 768);
  const numHeads = f.int('num_attention_heads', 12);
  const numLayers = f.int('num_hidden_layers', 22);
  if (f.raw.head_dim != null)
    f.only(
      'head_dim',
      [Math.floor(hiddenSize / numHeads)],
      null,
      'heads narrower or wider than hidden_size / num_attention_heads are not implemented',
    );
  f.only('classifier_pooling', ['cls', 'mean'], 'cls', 'ModernBertForSequenceClassification pools the first token or the mean');
  const rotary: RotaryAttention = {
    globalTheta: ropeTheta(f, 'full_attention'),
    localTheta: ropeTheta(f, 'sliding_attention'),
    window: Math.floor(f.int('local_attention', 128) / 2),
    localLayers: localLayers(f, numLayers),
  };
  const cutoff = f.raw.initializer_cutoff_factor === null ? 3 : f.positive('initializer_cutoff_factor', 2);
  const attentionDropout = f.probability('attention_dropout', 0);
  const embeddingDropout = f.probability('embedding_dropout', 0);
  const norm = f.bool('norm_bias', false);
  return {
    vocabSize: f.int('vocab_size', 50368),
    hiddenSize,
    embeddingSize: hiddenSize,
    numLayers,
    numHeads,
    intermediateSize: f.int('intermediate_size', 1152),
    maxPositions: f.int('max_position_embeddings', 8192),
    typeVocabSize: 0,
    padTokenId: f.int('pad_token_id', 50283, 0),
    layerNormEps: f.positive('norm_eps', 1e-5),
    activation: activationOf(f, 'hidden_activation', 'gelu'),
    // ModernBERT has no dropout on its residual stream; each of its dropouts has a site of its own.
    hiddenDropout: embeddingDropout,
    embeddingDropout,
    attentionDropout,
    attentionOutputDropout: attentionDropout,
    ffnInnerDropout: f.probability('mlp_dropout', 0),
    classifierDropout: f.probability('classifier_dropout', 0),
    initializerRange: f.positive('initializer_range', 0.02),
    initCutoff: cutoff,
    bias: { attention: f.bool('attention_bias', false), ffn: f.bool('mlp_bias', false), norm, headDense: f.bool('classifier_bias', false) },
    rotary,
    structure: {
      headActivation: activationOf(f, 'classifier_activation', 'gelu'),
      pooling: f.raw.classifier_pooling === 'mean' ? 'mean' : 'first',
    },
  };
}

const layer = 'model.layers.{i}';

export const modernbert: Family = {
  name: 'modernbert',
  modelTypes: ['modernbert'],
  classes: { sequence: 'ModernBertForSequenceClassification' },
  prefix: 'model',
  bareRoots: ['embeddings.', 'layers.', 'final_norm.'],
  ignored: [/^decoder\./, ...BUFFERS],
  notes: [
    {
      pattern: /^decoder\./,
      note: "ModernBertForMaskedLM's decoder is not part of a classifier (its head.dense and head.norm are, as in transformers)",
    },
  ],
  names: {
    word: 'model.embeddings.tok_embeddings',
    embeddingsNorm: 'model.embeddings.norm',
    layer: {
      qkv: `${layer}.attn.Wqkv`,
      attentionOutput: `${layer}.attn.Wo`,
      attentionNorm: `${layer}.attn_norm`,
      ffnIn: `${layer}.mlp.Wi`,
      ffnOut: `${layer}.mlp.Wo`,
      ffnNorm: `${layer}.mlp_norm`,
    },
    finalNorm: 'model.final_norm',
    headDense: { name: 'head.dense', pooler: true, norm: 'head.norm' },
    classifier: 'classifier',
  },
  structure: {
    positions: 'none',
    attentionOutputDropout: true,
    ffnOutputDropout: false,
    headDropoutBeforeDense: false,
    headActivation: 'gelu',
    norm: 'pre',
    attention: 'rotary',
    ffn: 'glu',
  },
  read: readModernbert,
  // ModernBertConfig's float-only fields (its strict dataclass refuses 2 for initializer_cutoff_factor: 2.0).
  floatKeys: ['initializer_range', 'initializer_cutoff_factor', 'norm_eps'],
  noFirstAttentionNorm: true,
  // ModernBertPreTrainedModel._init_weights: truncated normals at +-cutoff std; the output projections scaled
  // down by sqrt(2 * layers), the classifier at hidden_size^-0.5; its trunc_normal_ overwrites the padding row.
  initOf(role, c) {
    const r = c.initializerRange;
    const cutoff = c.initCutoff;
    const std = {
      'embeddings.word': r,
      'layer.qkv.weight': r,
      'layer.ffn_in.weight': r,
      'layer.attention_output.weight': r / Math.sqrt(2 * c.numLayers),
      'layer.ffn_out.weight': r / Math.sqrt(2 * c.numLayers),
      'head.dense.weight': r / Math.sqrt(2 * c.numLayers),
      'head.classifier.weight': c.hiddenSize ** -0.5,
    }[role];
    if (std === undefined) return undefined;
    return { std, ...(cutoff ? { cutoff } : {}), ...(role === 'embeddings.word' ? { paddingRow: 'drawn' as const } : {}) };
  },
};
