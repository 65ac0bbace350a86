/**
 * Reading a Hugging Face config.json into the engine's model config. Every field the engine needs is
 * checked here, with the file and the key in the message; the native layer trusts the result.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import { ConfigFields } from './config-fields.js';
import { type FamilyName, familyOfModelType, type ModelStructure } from './families/index.js';

export type Architecture = FamilyName;
export type { ActivationName } from './config-fields.js';

import type { ActivationName } from './config-fields.js';
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

export interface GeneratorSizes {
  hiddenSize: number;
  numHeads: number;
  intermediateSize: number;
  numLayers: number;
}

export interface HeadOptions {
  /** Add BERT's masked-language-model head (cls.predictions.*), for pre-training and MLM healing. */
  mlmHead?: boolean;
  /** Number of classes; 1 means regression. Default: the checkpoint's (num_labels or id2label), else 2. */
  numLabels?: number;
  /** Force regression or classification; default: regression when numLabels is 1 (as transformers). */
  problemType?: 'regression' | 'single_label_classification';
  /**
   * Dropout of the encoder (hidden and attention probabilities) for this model object only, instead of the
   * config's; the config a save() writes keeps the checkpoint's own values. Pre-training without dropout
   * uses it (`healbert pretrain --dropout 0`).
   */
  dropout?: number;
  /**
   * ALBERT: give every encoder layer its own copy of its shared group's tensors (loaded from the group's), so
   * that a layer can be corrupted alone; the model saves as an ALBERT folder with num_hidden_groups equal to
   * num_hidden_layers. Other families have nothing to untie (ignored).
   */
  untieLayers?: boolean;
}

export type RawConfig = Record<string, unknown>;

export async function readRawConfig(dir: string): Promise<RawConfig> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new HealbertError('ERR_CHECKPOINT', `${path}: cannot read the model config (${(error as Error).message})`, { cause: error });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as RawConfig;
  } catch (error) {
    throw new HealbertError('ERR_CHECKPOINT', `${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

export function architectureOf(raw: RawConfig, source: string): Architecture {
  return familyOfModelType(raw.model_type, source).name;
}

/** The number of labels a checkpoint's config declares (num_labels, else id2label's size), if any. */
export function declaredNumLabels(raw: RawConfig): number | undefined {
  if (typeof raw.num_labels === 'number') return raw.num_labels;
  if (raw.id2label && typeof raw.id2label === 'object') return Object.keys(raw.id2label).length;
  return undefined;
}

export function engineConfig(raw: RawConfig, source: string, head: HeadOptions = {}): EngineConfig {
  const fam = familyOfModelType(raw.model_type, source);
  if (raw.is_decoder === true || raw.add_cross_attention === true) {
    throw new HealbertError('ERR_CHECKPOINT', `${source}: decoder / cross-attention configurations are not supported`);
  }
  const f = new ConfigFields(raw, source);
  const numLabels = head.numLabels ?? declaredNumLabels(raw) ?? 2;
  if (!Number.isInteger(numLabels) || numLabels < 1) {
    throw new HealbertError('ERR_ARGUMENT', `numLabels must be an integer >= 1, got ${numLabels}`);
  }
  const problemType = head.problemType ?? (typeof raw.problem_type === 'string' ? raw.problem_type : undefined);
  const regression = problemType === 'regression' || (problemType === undefined && numLabels === 1);
  if (regression && numLabels !== 1) {
    throw new HealbertError('ERR_ARGUMENT', `a regression head has one output, but numLabels is ${numLabels}`);
  }
  if (head.mlmHead && !fam.names.mlm)
    throw new HealbertError(
      'ERR_ARGUMENT',
      `an MLM head is available for BERT models only, not ${fam.name}${fam.name === 'electra' ? ' (an ELECTRA discriminator has no masked-LM head)' : ''}`,
    );
  const { numLayerGroups, structure, ...sizes } = fam.read(f);
  let config: EngineConfig = {
    arch: fam.name,
    ...sizes,
    numLabels,
    head: regression ? 'regression' : 'classification',
    mlmHead: head.mlmHead ?? false,
    // tie_word_embeddings: false gives the MLM head a decoder of its own (cls.predictions.decoder.*).
    mlmTied: raw.tie_word_embeddings !== false,
    structure: { ...fam.structure, ...structure },
    ...(numLayerGroups !== undefined && numLayerGroups < sizes.numLayers
      ? { sharedLayerGroups: numLayerGroups, ...(head.untieLayers ? { untied: true } : {}) }
      : {}),
  };
  const generator = generatorOf(raw, f, fam.name);
  if (generator) config = { ...config, ...generator };
  if (head.dropout !== undefined) {
    if (!(head.dropout >= 0 && head.dropout < 1))
      throw new HealbertError('ERR_ARGUMENT', `dropout must be a probability in [0, 1), got ${head.dropout}`);
    // Every dropout of the encoder, the family-specific ones (ModernBERT's embedding, attention-output and
    // mlp dropouts) included.
    const p = head.dropout;
    config = { ...config, hiddenDropout: p, attentionDropout: p };
    for (const key of ['embeddingDropout', 'attentionOutputDropout', 'ffnInnerDropout'] as const)
      if (config[key] !== undefined) config = { ...config, [key]: p };
  }
  if (config.hiddenSize % config.numHeads !== 0) {
    throw new HealbertError(
      'ERR_CHECKPOINT',
      `${source}: hidden size ${config.hiddenSize} is not divisible by ${config.numHeads} attention heads`,
    );
  }
  if (config.padTokenId >= config.vocabSize) {
    throw new HealbertError(
      'ERR_CHECKPOINT',
      `${source}: pad_token_id ${config.padTokenId} is outside the vocabulary (${config.vocabSize})`,
    );
  }
  return config;
}

/**
 * An ELECTRA pre-training checkpoint's generator (`healbert_generator` in config.json: hidden_size,
 * num_attention_heads, intermediate_size, num_hidden_layers) and loss weight (`healbert_rtd_weight`).
 */
function generatorOf(raw: RawConfig, f: ConfigFields, family: string): Pick<EngineConfig, 'generator' | 'rtdWeight'> | undefined {
  const g = raw.healbert_generator;
  if (g === undefined) return undefined;
  if (family !== 'electra')
    throw new HealbertError('ERR_CONFIG', `${f.source}: "healbert_generator": a generator is for ELECTRA pre-training, not ${family}`);
  if (typeof g !== 'object' || g === null) throw new HealbertError('ERR_CHECKPOINT', `${f.source}: "healbert_generator" must be an object`);
  const gf = new ConfigFields(g as RawConfig, `${f.source} (healbert_generator)`);
  const sizes = {
    hiddenSize: gf.int('hidden_size'),
    numHeads: gf.int('num_attention_heads'),
    intermediateSize: gf.int('intermediate_size'),
    numLayers: gf.int('num_hidden_layers'),
  };
  if (sizes.hiddenSize % sizes.numHeads !== 0)
    throw new HealbertError('ERR_CHECKPOINT', `${f.source}: the generator's hidden size is not divisible by its heads`);
  return { generator: sizes, rtdWeight: f.positive('healbert_rtd_weight', 50) };
}

/** The longest input a model accepts: RoBERTa reserves the first pad_token_id + 1 positions. */
export function maxSequenceLength(config: EngineConfig): number {
  return config.structure.positions === 'offset' ? config.maxPositions - config.padTokenId - 1 : config.maxPositions;
}
