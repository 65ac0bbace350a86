/**
 * A corruption spec is data: JSON that sweeps can enumerate, validated once here against a JSON Schema
 * (defaults filled in, unknown keys rejected, errors that name the field).
 */
import { Ajv, type ErrorObject } from 'ajv';
import { HealbertError } from '../errors.js';

/** How a corruption changes the selected entries (see the Corruption guide for each method and its level). */
export type CorruptionMethod = 'reinit' | 'gaussian' | 'zero' | 'uniform' | 'scale' | 'sign-flip' | 'bit-flip' | 'revert';
/** `bert` is BERT's own initialisation under its name (Zhang et al. 2021 re-initialise so): it resolves to `bert-normal`. */
export type InitVariant = 'kaiming-sqrt5' | 'kaiming-0' | 'bert-normal' | 'bert';
/** One layer selector: an index (3), a range ("2-5"), "all", "none", "bottom:k", "top:k" or a share of the depth ("bottom:0.25"). */
export type LayerSelector = number | string;

/** Which parameters a corruption selects: layers, components, kinds, heads, neurons, extra parts and name globs. */
export interface TargetSpec {
  /** Encoder layers: "all", "none", 3, "2-5", "bottom:3", "top:2", "bottom:0.25" (a share of the depth), or a list. */
  layers?: LayerSelector | LayerSelector[];
  /**
   * Attention heads of the selected layers, as layers take them (3, "2-5", "all", a list): head h is rows
   * h*d..(h+1)*d of the query, key and value weights and biases, and those columns of the attention output
   * weight (its bias, shared by all heads, is left alone). Cuts the components to the attention matrices;
   * `layers` defaults to all.
   */
  heads?: LayerSelector | LayerSelector[];
  /**
   * FFN neurons of the selected layers: row i of the intermediate weight and its bias (and row I + i, its gate,
   * in a GLU such as ModernBERT's), column i of the FFN output weight. A head of a fused qkv projection
   * (ModernBERT's Wqkv) is its rows in each of the three thirds.
   */
  neurons?: LayerSelector | LayerSelector[];
  /**
   * Parts of each selected layer: attention, attention.query|key|value|output, attention.qkv (ModernBERT's fused
   * projection), attention.pos_key|pos_query|position (DeBERTa's own position projections), attention.layernorm,
   * ffn, ffn.intermediate, ffn.output, ffn.layernorm, layernorm. Default: all.
   */
  components?: string[];
  /** Only weights (Linear, LayerNorm and embedding weights) or only biases. Default: all. */
  kinds?: 'all' | 'weights' | 'biases';
  /**
   * Whole parts outside the encoder layers: embeddings (or embeddings.word|position|token_type|layernorm|projection),
   * rel_embeddings (DeBERTa's relative position embeddings), encoder.layernorm (DeBERTa's norm on them, ModernBERT's
   * final norm), pooler (ModernBERT: its head's dense and norm), classifier.
   */
  include?: string[];
  /** Globs over Hugging Face parameter names (* matches any run of characters). */
  names?: string[];
}

/** A corruption: a method, its level and options, and the targets it applies to. */
export interface CorruptionSpec {
  method: CorruptionMethod;
  /** The method's strength: sigma (gaussian), lambda (uniform), factor (scale), rate (bit-flip). */
  level?: number;
  /** gaussian: sigma is relative to each tensor's own standard deviation. */
  relative?: boolean;
  /**
   * reinit: how Linear and embedding weights are drawn (biases 0, LayerNorm 1 and 0 always): Kaiming uniform
   * (nn.Linear's default, or a = 0), or as BERT initialises them, N(0, initializer_range) (`bert`, also called
   * `bert-normal`). BERT also zeroes the padding row of its embeddings; no output reads that row, so healbert
   * draws it like the others.
   */
  init?: InitVariant;
  /** Share of each selected tensor's entries that is corrupted (a seeded mask). */
  fraction?: number;
  /** bit-flip: any of the 32 bits of a float32, or only its 8 exponent bits. */
  bits?: 'any' | 'exponent';
  /** revert: the snapshot to restore (see Model.snapshot). */
  snapshot?: string;
  targets: TargetSpec;
}

/** A validated spec with every default filled in. */
export type ResolvedCorruptionSpec = Required<Omit<CorruptionSpec, 'snapshot' | 'targets'>> & { snapshot?: string; targets: TargetSpec };

const LAYER_SELECTOR = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', minLength: 1 },
  ],
};

/** The JSON Schema every corruption spec is validated against (unknown keys rejected, defaults filled in). */
export const corruptionSpecSchema = {
  $id: 'healbert/corruption-spec',
  type: 'object',
  additionalProperties: false,
  required: ['method', 'targets'],
  properties: {
    method: { enum: ['reinit', 'gaussian', 'zero', 'uniform', 'scale', 'sign-flip', 'bit-flip', 'revert'] },
    level: { type: 'number' },
    relative: { type: 'boolean', default: false },
    init: { enum: ['kaiming-sqrt5', 'kaiming-0', 'bert-normal', 'bert'], default: 'kaiming-sqrt5' },
    fraction: { type: 'number', minimum: 0, maximum: 1, default: 1 },
    bits: { enum: ['any', 'exponent'], default: 'any' },
    snapshot: { type: 'string', minLength: 1 },
    targets: {
      type: 'object',
      additionalProperties: false,
      properties: {
        layers: { anyOf: [LAYER_SELECTOR, { type: 'array', items: LAYER_SELECTOR }] },
        heads: { anyOf: [LAYER_SELECTOR, { type: 'array', items: LAYER_SELECTOR }] },
        neurons: { anyOf: [LAYER_SELECTOR, { type: 'array', items: LAYER_SELECTOR }] },
        components: { type: 'array', items: { type: 'string' } },
        kinds: { enum: ['all', 'weights', 'biases'], default: 'all' },
        include: { type: 'array', items: { type: 'string' } },
        names: { type: 'array', items: { type: 'string', minLength: 1 } },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: true });
const validate = ajv.compile(corruptionSpecSchema);

/** "spec.targets.layers: must be ..." from an ajv error. */
export function describeSchemaError(error: ErrorObject, root: string): string {
  // JSON pointer (/corruptions/0/targets) to a path as written in code (corruptions[0].targets).
  const path = `${root}${error.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')}`;
  if (error.keyword === 'additionalProperties')
    return `${path}: unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  if (error.keyword === 'enum')
    return `${path}: must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (error.keyword === 'required') return `${path}: missing "${(error.params as { missingProperty: string }).missingProperty}"`;
  return `${path}: ${error.message}`;
}

const LEVEL_NAME: Partial<Record<CorruptionMethod, string>> = { gaussian: 'sigma', uniform: 'lambda', scale: 'factor', 'bit-flip': 'rate' };

/** Validates a spec (throws ERR_CONFIG naming the field) and returns it with defaults. `root` prefixes paths. */
export function resolveCorruptionSpec(input: unknown, root = 'spec'): ResolvedCorruptionSpec {
  const spec = structuredClone(input) as CorruptionSpec;
  if (!validate(spec)) {
    throw new HealbertError('ERR_CONFIG', describeSchemaError((validate.errors as ErrorObject[])[0] as ErrorObject, root));
  }
  const fail = (field: string, message: string): never => {
    throw new HealbertError('ERR_CONFIG', `${root}.${field}: ${message}`);
  };
  const levelName = LEVEL_NAME[spec.method];
  if (levelName) {
    if (spec.level === undefined) fail('level', `${spec.method} needs a level (its ${levelName})`);
    const level = spec.level as number;
    if (!Number.isFinite(level)) fail('level', `${levelName} must be finite`);
    if ((spec.method === 'gaussian' || spec.method === 'uniform') && level < 0) fail('level', `${levelName} must be >= 0, got ${level}`);
    if (spec.method === 'bit-flip' && !(level >= 0 && level <= 1)) fail('level', `the bit-flip rate must be in [0, 1], got ${level}`);
  } else if (spec.level !== undefined && spec.level !== 0) {
    // (0 is what a resolved spec carries for these methods, so resolving is idempotent)
    fail('level', `${spec.method} takes no level`);
  }
  if (spec.relative && spec.method !== 'gaussian') fail('relative', 'only gaussian noise can be relative (uniform noise always is)');
  if (spec.method === 'revert' && !spec.snapshot) fail('snapshot', 'revert needs the name of a snapshot');
  if (spec.method !== 'revert' && spec.snapshot !== undefined) fail('snapshot', 'only revert uses a snapshot');
  // One name per initialisation in resolved specs (and so in cell ids and labels): `bert` is `bert-normal`.
  if (spec.init === 'bert') spec.init = 'bert-normal';
  return { level: 0, ...spec } as ResolvedCorruptionSpec;
}
