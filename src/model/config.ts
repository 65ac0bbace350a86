/**
 * Reading a Hugging Face config.json into the engine's model config. Every field the engine needs is
 * checked here, with the file and the key in the message; the native layer trusts the result.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import { ConfigFields, type RawConfig } from './config-fields.js';
import type { Architecture, EngineConfig } from './engine-config.js';
import { familyOfModelType } from './families/index.js';

export type { ActivationName, RawConfig } from './config-fields.js';
export type { Architecture, EngineConfig, GeneratorSizes, HeadKind, RelativeAttention, RotaryAttention } from './engine-config.js';
export { relativeSpan } from './engine-config.js';

/** What a loaded model's heads are: the MLM head, the task head's classes or regression, and per-model overrides. */
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

/** Reads `<dir>/config.json` as it is (ERR_CHECKPOINT when it cannot be read or is not a JSON object). */
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

/** The family a config.json's model_type names (ERR_CHECKPOINT for a model type healbert does not run). */
export function architectureOf(raw: RawConfig, source: string): Architecture {
  return familyOfModelType(raw.model_type, source).name;
}

/** The number of labels a checkpoint's config declares (num_labels, else id2label's size), if any. */
export function declaredNumLabels(raw: RawConfig): number | undefined {
  if (typeof raw.num_labels === 'number') return raw.num_labels;
  if (raw.id2label && typeof raw.id2label === 'object') return Object.keys(raw.id2label).length;
  return undefined;
}

/**
 * The engine's config from a config.json: every field the family reads, checked (errors name `source` and
 * the key), with the heads `head` asks for.
 */
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
