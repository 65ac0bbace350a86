/**
 * Reading a Hugging Face config.json into the engine's model config. Every field the engine needs is
 * checked here, with the file and the key in the message; the native layer trusts the result.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';

export type Architecture = 'bert' | 'roberta' | 'distilbert';
export type ActivationName = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';
export type HeadKind = 'classification' | 'regression';

/** What the native engine needs (native/engine/config.h). */
export interface EngineConfig {
  arch: Architecture;
  vocabSize: number;
  hiddenSize: number;
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
}

export type RawConfig = Record<string, unknown>;

const MODEL_TYPES: Record<string, Architecture> = {
  bert: 'bert',
  roberta: 'roberta',
  'xlm-roberta': 'roberta',
  camembert: 'roberta',
  distilbert: 'distilbert',
};

const ACTIVATIONS: Record<string, ActivationName> = {
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

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

/** Typed field access with errors that name the file and the key. */
class Fields {
  constructor(
    readonly raw: RawConfig,
    readonly source: string,
  ) {}

  private fail(key: string, expected: string, value: unknown): never {
    throw new HealbertError('ERR_CHECKPOINT', `${this.source}: "${key}" must be ${expected}, got ${JSON.stringify(value)}`);
  }

  int(key: string, fallback?: number, min = 1): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) this.fail(key, `an integer >= ${min}`, value);
    return value;
  }

  probability(key: string, fallback: number): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !(value >= 0 && value < 1)) this.fail(key, 'a number in [0, 1)', value);
    return value;
  }

  positive(key: string, fallback: number): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !(value > 0)) this.fail(key, 'a positive number', value);
    return value;
  }

  string(key: string, fallback?: string): string {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'string') this.fail(key, 'a string', value);
    return value;
  }
}

export function architectureOf(raw: RawConfig, source: string): Architecture {
  const type = raw.model_type;
  if (typeof type === 'string' && MODEL_TYPES[type]) return MODEL_TYPES[type];
  throw new HealbertError(
    'ERR_CHECKPOINT',
    `${source}: model_type ${JSON.stringify(type)} is not supported; healbert runs ${Object.keys(MODEL_TYPES).join(', ')}`,
  );
}

/** The number of labels a checkpoint's config declares (num_labels, else id2label's size), if any. */
export function declaredNumLabels(raw: RawConfig): number | undefined {
  if (typeof raw.num_labels === 'number') return raw.num_labels;
  if (raw.id2label && typeof raw.id2label === 'object') return Object.keys(raw.id2label).length;
  return undefined;
}

export function engineConfig(raw: RawConfig, source: string, head: HeadOptions = {}): EngineConfig {
  const arch = architectureOf(raw, source);
  if (raw.position_embedding_type !== undefined && raw.position_embedding_type !== 'absolute') {
    throw new HealbertError(
      'ERR_CHECKPOINT',
      `${source}: position_embedding_type "${String(raw.position_embedding_type)}" is not supported (only absolute)`,
    );
  }
  if (raw.is_decoder === true || raw.add_cross_attention === true) {
    throw new HealbertError('ERR_CHECKPOINT', `${source}: decoder / cross-attention configurations are not supported`);
  }
  const f = new Fields(raw, source);
  const numLabels = head.numLabels ?? declaredNumLabels(raw) ?? 2;
  if (!Number.isInteger(numLabels) || numLabels < 1) {
    throw new HealbertError('ERR_ARGUMENT', `numLabels must be an integer >= 1, got ${numLabels}`);
  }
  const problemType = head.problemType ?? (typeof raw.problem_type === 'string' ? raw.problem_type : undefined);
  const regression = problemType === 'regression' || (problemType === undefined && numLabels === 1);
  if (regression && numLabels !== 1) {
    throw new HealbertError('ERR_ARGUMENT', `a regression head has one output, but numLabels is ${numLabels}`);
  }
  if (head.mlmHead && arch !== 'bert')
    throw new HealbertError('ERR_ARGUMENT', `an MLM head is available for BERT models only, not ${arch}`);
  const common = {
    numLabels,
    head: (regression ? 'regression' : 'classification') as HeadKind,
    mlmHead: head.mlmHead ?? false,
    // tie_word_embeddings: false gives the MLM head a decoder of its own (cls.predictions.decoder.*).
    mlmTied: raw.tie_word_embeddings !== false,
  };
  const activationOf = (key: string, fallback: string): ActivationName => {
    const name = f.string(key, fallback);
    const act = ACTIVATIONS[name];
    if (!act)
      throw new HealbertError(
        'ERR_CHECKPOINT',
        `${source}: activation "${name}" is not supported (${Object.keys(ACTIVATIONS).join(', ')})`,
      );
    return act;
  };
  let config: EngineConfig;
  if (arch === 'distilbert') {
    const dropout = f.probability('dropout', 0.1);
    config = {
      arch,
      vocabSize: f.int('vocab_size'),
      hiddenSize: f.int('dim'),
      numLayers: f.int('n_layers'),
      numHeads: f.int('n_heads'),
      intermediateSize: f.int('hidden_dim'),
      maxPositions: f.int('max_position_embeddings', 512),
      typeVocabSize: 0,
      padTokenId: f.int('pad_token_id', 0, 0),
      layerNormEps: 1e-12, // fixed in DistilBERT's modeling code
      activation: activationOf('activation', 'gelu'),
      hiddenDropout: dropout,
      attentionDropout: f.probability('attention_dropout', 0.1),
      classifierDropout: f.probability('seq_classif_dropout', 0.2),
      initializerRange: f.positive('initializer_range', 0.02),
      ...common,
    };
  } else {
    const hiddenDropout = f.probability('hidden_dropout_prob', 0.1);
    config = {
      arch,
      vocabSize: f.int('vocab_size'),
      hiddenSize: f.int('hidden_size'),
      numLayers: f.int('num_hidden_layers'),
      numHeads: f.int('num_attention_heads'),
      intermediateSize: f.int('intermediate_size'),
      maxPositions: f.int('max_position_embeddings', 512),
      typeVocabSize: f.int('type_vocab_size', 2),
      padTokenId: f.int('pad_token_id', arch === 'roberta' ? 1 : 0, 0),
      layerNormEps: f.positive('layer_norm_eps', 1e-12),
      activation: activationOf('hidden_act', 'gelu'),
      hiddenDropout,
      attentionDropout: f.probability('attention_probs_dropout_prob', 0.1),
      classifierDropout: raw.classifier_dropout == null ? hiddenDropout : f.probability('classifier_dropout', hiddenDropout),
      initializerRange: f.positive('initializer_range', 0.02),
      ...common,
    };
  }
  if (head.dropout !== undefined) {
    if (!(head.dropout >= 0 && head.dropout < 1))
      throw new HealbertError('ERR_ARGUMENT', `dropout must be a probability in [0, 1), got ${head.dropout}`);
    config = { ...config, hiddenDropout: head.dropout, attentionDropout: head.dropout };
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
  if (arch === 'roberta' && config.maxPositions <= config.padTokenId + 1) {
    throw new HealbertError(
      'ERR_CHECKPOINT',
      `${source}: max_position_embeddings ${config.maxPositions} leaves no room after RoBERTa's position offset`,
    );
  }
  return config;
}

/** The longest input a model accepts: RoBERTa reserves the first pad_token_id + 1 positions. */
export function maxSequenceLength(config: EngineConfig): number {
  return config.arch === 'roberta' ? config.maxPositions - config.padTokenId - 1 : config.maxPositions;
}
