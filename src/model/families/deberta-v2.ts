/**
 * DeBERTa-v2 and -v3 (model_type deberta-v2; DebertaV2ForSequenceClassification): BERT's post-norm layers with
 * disentangled attention (content-to-content plus content-to-position and position-to-content terms over
 * bucketed relative positions, native/engine/attention_disentangled.cc), relative embeddings through the
 * encoder LayerNorm, no absolute positions where position_biased_input is false, the embeddings' LayerNorm
 * after embed_proj, and the ContextPooler head: dropout -> dense -> activation -> dropout -> classifier.
 * Semantics: transformers 5.17's modeling_deberta_v2.py.
 */
import { HealbertError } from '../../errors.js';
import { activationOf, type ConfigFields } from '../config-fields.js';
import { BUFFERS } from './bert-like.js';
import type { Family, FamilyConfig } from './types.js';

/** pos_att_type as transformers reads it: a list, or a "p2c|c2p" string. */
function positionTerms(f: ConfigFields): { c2p: boolean; p2c: boolean } {
  const raw = f.raw.pos_att_type;
  const list =
    raw == null
      ? []
      : typeof raw === 'string'
        ? raw
            .toLowerCase()
            .split('|')
            .map((x) => x.trim())
        : Array.isArray(raw) && raw.every((x) => typeof x === 'string')
          ? (raw as string[])
          : f.invalid('pos_att_type', 'a list of "c2p" and "p2c", or a string such as "p2c|c2p"', raw);
  const unknown = list.filter((x) => x !== 'c2p' && x !== 'p2c');
  if (unknown.length > 0 || list.length === 0)
    throw new HealbertError(
      'ERR_CONFIG',
      `${f.source}: "pos_att_type": ${JSON.stringify(raw ?? null)} is not supported (healbert runs "c2p", "p2c" or both): ${
        unknown.length > 0
          ? `${unknown.join(', ')} is not a disentangled-attention term transformers' DeBERTa-v2 computes`
          : 'relative attention without position terms is not implemented'
      }`,
    );
  return { c2p: list.includes('c2p'), p2c: list.includes('p2c') };
}

function readDeberta(f: ConfigFields): FamilyConfig {
  f.only(
    'conv_kernel_size',
    [0],
    0,
    "DeBERTa-v2's convolution layer next to the first layer (ConvLayer, as in deberta-v2-xlarge) is not implemented",
  );
  f.only(
    'relative_attention',
    [true],
    false,
    "healbert runs DeBERTa's disentangled (relative) attention; a DeBERTa-v2 without it is not implemented",
  );
  const hiddenSize = f.int('hidden_size');
  const numHeads = f.int('num_attention_heads');
  f.only(
    'attention_head_size',
    [Math.floor(hiddenSize / numHeads)],
    Math.floor(hiddenSize / numHeads),
    'heads narrower or wider than hidden_size / num_attention_heads are not implemented',
  );
  f.only(
    'pooler_hidden_size',
    [hiddenSize],
    hiddenSize,
    "the ContextPooler's width must be hidden_size (transformers' classifier reads hidden_size features)",
  );
  const maxPositions = f.int('max_position_embeddings', 512);
  const maxRelative =
    typeof f.raw.max_relative_positions === 'number' && f.raw.max_relative_positions >= 1 ? f.int('max_relative_positions') : maxPositions;
  const buckets = typeof f.raw.position_buckets === 'number' && f.raw.position_buckets > 0 ? f.int('position_buckets') : -1;
  const normRel = f
    .string('norm_rel_ebd', 'none')
    .toLowerCase()
    .split('|')
    .map((x) => x.trim());
  const hiddenDropout = f.probability('hidden_dropout_prob', 0.1);
  const positionBiased = f.bool('position_biased_input', true);
  return {
    vocabSize: f.int('vocab_size'),
    hiddenSize,
    embeddingSize: f.int('embedding_size', hiddenSize),
    numLayers: f.int('num_hidden_layers'),
    numHeads,
    intermediateSize: f.int('intermediate_size'),
    maxPositions,
    typeVocabSize: f.int('type_vocab_size', 0, 0),
    padTokenId: f.int('pad_token_id', 0, 0),
    layerNormEps: f.positive('layer_norm_eps', 1e-7),
    activation: activationOf(f, 'hidden_act', 'gelu'),
    hiddenDropout,
    attentionDropout: f.probability('attention_probs_dropout_prob', 0.1),
    // ContextPooler's dropout (pooler_dropout) before its dense; the classifier's (cls_dropout, else the hidden
    // dropout) after its activation.
    headInputDropout: f.probability('pooler_dropout', 0),
    classifierDropout: f.raw.cls_dropout == null ? hiddenDropout : f.probability('cls_dropout', hiddenDropout),
    initializerRange: f.positive('initializer_range', 0.02),
    bias: { projection: false },
    relative: {
      buckets,
      maxRelative,
      ...positionTerms(f),
      shareKeys: f.bool('share_att_key', false),
      normalised: normRel.includes('layer_norm'),
    },
    structure: {
      positions: positionBiased ? 'absolute' : 'none',
      headActivation: activationOf(f, 'pooler_hidden_act', 'gelu'),
    },
  };
}

const layer = 'deberta.encoder.layer.{i}';

export const debertaV2: Family = {
  name: 'deberta-v2',
  modelTypes: ['deberta-v2'],
  classes: { sequence: 'DebertaV2ForSequenceClassification' },
  prefix: 'deberta',
  bareRoots: ['embeddings.', 'encoder.'],
  // Pre-training heads (masked LM, legacy and not; v3's replaced-token detection), and the absolute position
  // table some checkpoints carry unused (transformers' _keys_to_ignore_on_load_unexpected).
  ignored: [/^cls\./, /^lm_predictions\./, /^mask_predictions\./, /^deberta\.embeddings\.position_embeddings\./, ...BUFFERS],
  notes: [
    {
      pattern: /^(cls|lm_predictions|mask_predictions)\./,
      note: "DeBERTa's pre-training head (masked LM or replaced-token detection) is not part of a classifier",
    },
  ],
  names: {
    word: 'deberta.embeddings.word_embeddings',
    position: 'deberta.embeddings.position_embeddings',
    tokenType: 'deberta.embeddings.token_type_embeddings',
    embeddingsNorm: 'deberta.embeddings.LayerNorm',
    projection: 'deberta.embeddings.embed_proj',
    layer: {
      query: `${layer}.attention.self.query_proj`,
      key: `${layer}.attention.self.key_proj`,
      value: `${layer}.attention.self.value_proj`,
      positionKey: `${layer}.attention.self.pos_key_proj`,
      positionQuery: `${layer}.attention.self.pos_query_proj`,
      attentionOutput: `${layer}.attention.output.dense`,
      attentionNorm: `${layer}.attention.output.LayerNorm`,
      ffnIn: `${layer}.intermediate.dense`,
      ffnOut: `${layer}.output.dense`,
      ffnNorm: `${layer}.output.LayerNorm`,
    },
    relativeEmbeddings: 'deberta.encoder.rel_embeddings',
    relativeNorm: 'deberta.encoder.LayerNorm',
    headDense: { name: 'pooler.dense', pooler: false },
    classifier: 'classifier',
  },
  structure: {
    positions: 'none',
    attentionOutputDropout: true,
    ffnOutputDropout: true,
    headDropoutBeforeDense: true,
    headActivation: 'gelu',
    attention: 'disentangled',
    embeddingNormAfterProjection: true,
  },
  read: readDeberta,
  floatKeys: ['initializer_range', 'layer_norm_eps'],
};
