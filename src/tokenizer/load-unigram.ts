/**
 * A Unigram tokenizer.json (XLM-R, ALBERT, DeBERTa-v3, or any SentencePiece model saved by Hugging Face)
 * as transformers 5.17's AutoTokenizer reads the folder: through the class's own pipeline where the
 * folder names XLMRobertaTokenizer, AlbertTokenizer or DebertaV2Tokenizer (./transformers-classes.ts),
 * else the tokenizer.json as it is. Special tokens are added as TokenizersBackend adds them.
 */
import { HealbertError } from '../errors.js';
import type { AddedToken } from './added-tokens.js';
import { addedToken, bool, type Json, modelMaxLength, padding } from './load-common.js';
import { parseNormalizers, parsePreTokenizers } from './load-pipeline-json.js';
import { parsePostProcessor } from './load-post-processor.js';
import type { Template, TemplatePiece } from './post-process.js';
import type { TokenizerSpec } from './spec.js';
import {
  CLASS_SPECIAL_TOKENS,
  chooseClass,
  classPipeline,
  classUnkId,
  PIPELINE_CLASSES,
  type PipelineClass,
} from './transformers-classes.js';

const SPECIAL_ATTRIBUTES = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

/**
 * tokenizer_config.json as transformers reads it with an old special_tokens_map.json beside it: without
 * an `added_tokens_decoder` in the config, the map's entries replace the config's.
 */
export function withSpecialTokensMap(config: Json, map: Json | undefined): Json {
  if (map === undefined || 'added_tokens_decoder' in config) return config;
  return { ...config, ...map };
}

/** The pieces and scores of a Unigram model's `vocab` ([[piece, score], ...]). */
export function unigramPieces(vocab: unknown, path: string): [string, number][] {
  if (!Array.isArray(vocab) || vocab.length === 0)
    throw new HealbertError('ERR_DATA', `${path}: model.vocab: a Unigram model needs a non-empty list`);
  return vocab.map((entry, i) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      throw new HealbertError('ERR_DATA', `${path}: model.vocab[${i}]: expected [piece, score], got ${JSON.stringify(entry)}`);
    }
    return [entry[0], entry[1]];
  });
}

/** Inputs shared by tokenizer.json and SentencePiece .model folders. */
export interface UnigramSource {
  pieces: [string, number][];
  /** The file's own unknown id and byte fallback (used where no class overrides them). */
  unkId: number | null;
  byteFallback: boolean;
  /** The file's added tokens (tokenizer.json), with their ids. */
  addedTokens: AddedToken[];
  /** The file's own pipeline and post-processor (generic classes), and the charsmap classes take. */
  normalizer: unknown;
  preTokenizer: unknown;
  postProcessor: Json | null | undefined;
  charsmap: string | undefined;
  /** Whether the folder has a tokenizer.json (transformers then ignores add_bos_token and add_eos_token). */
  fromTokenizerJson: boolean;
  path: string;
  files: string[];
}

export function unigramSpec(source: UnigramSource, config: Json, modelConfig: Json | undefined): Omit<TokenizerSpec, 'hash'> {
  const { path, pieces } = source;
  const choice = chooseClass(config, modelConfig);
  if (choice.kind === 'unknown') {
    throw new HealbertError(
      'ERR_DATA',
      `${path}: ${choice.from} is '${choice.name}', a transformers class that builds its own Unigram pipeline, which healbert does not know ` +
        `(healbert reads ${PIPELINE_CLASSES.join(', ')}, and tokenizer.json as it is under TokenizersBackend or PreTrainedTokenizerFast)`,
    );
  }
  const cls = choice.kind === 'pipeline' ? choice.name : undefined;
  const defaults = cls ? CLASS_SPECIAL_TOKENS[cls] : {};
  const vocab = pieces.map(([piece], id): [string, number] => [piece, id]);
  const ids = new Map(vocab);
  const added = addSpecialTokens(cls ? [] : source.addedTokens, config, defaults, ids, source.addedTokens);
  const unkToken = String(specialValue(config, 'unk_token', defaults)?.content ?? '');
  const pipeline = cls
    ? classPipeline(cls, config, source.charsmap)
    : {
        normalizers: parseNormalizers(source.normalizer, path),
        preTokenizers: parsePreTokenizers(source.preTokenizer, path),
      };
  const lookup = (token: string): number => {
    const id = added.find((t) => t.content === token)?.id ?? ids.get(token);
    if (id === undefined) throw new HealbertError('ERR_DATA', `${path}: the special token '${token}' is not in the vocabulary`);
    return id;
  };
  return {
    kind: 'unigram',
    model: {
      type: 'Unigram',
      vocab,
      scores: pieces.map(([, score]) => score),
      unkId: cls ? classUnkId(cls, pieces, unkToken, config) : source.unkId,
      byteFallback: cls ? false : source.byteFallback,
    },
    normalizer: null,
    ...pipeline,
    addedTokens: added.sort((a, b) => a.id - b.id),
    template: template(cls, source, config, defaults, lookup),
    ...padding(config, defaults.pad_token ?? '<pad>', vocab, added, path),
    modelMaxLength: modelMaxLength(config),
    files: source.files,
    ...(cls ? { transformersClass: cls } : {}),
  };
}

/** A special token of tokenizer_config.json (a string or an AddedToken object), else the class default. */
function specialValue(config: Json, key: string, defaults: Record<string, string>): Json | undefined {
  const value = config[key];
  if (typeof value === 'string') return { content: value, special: true, normalized: false };
  if (typeof value === 'object' && value !== null && typeof (value as Json).content === 'string') return value as Json;
  return defaults[key] === undefined ? undefined : { content: defaults[key], special: true, normalized: false };
}

/**
 * The added tokens, as TokenizersBackend.__init__ adds them: `base` (a generic class keeps the
 * tokenizer.json's own), then tokenizer_config.json's `added_tokens_decoder` (or, without one, the
 * tokenizer.json's added tokens), then each special token and `extra_special_tokens` not there yet. A
 * token in the vocabulary takes its id there; a new one the next id after the vocabulary and the others.
 */
function addSpecialTokens(
  base: AddedToken[],
  config: Json,
  defaults: Record<string, string>,
  vocab: Map<string, number>,
  fileTokens: AddedToken[],
): AddedToken[] {
  const out = [...base];
  const add = (t: Json) => {
    const content = String(t.content);
    if (content === '' || out.some((x) => x.content === content)) return;
    const next = Math.max(vocab.size, ...out.map((x) => x.id + 1));
    const special = bool(t.special, false);
    out.push(addedToken(t, vocab.get(content) ?? next, special, bool(t.normalized, !special)));
  };
  const decoder = config.added_tokens_decoder;
  if (typeof decoder === 'object' && decoder !== null) {
    const entries = Object.entries(decoder as Record<string, Json>).sort(([a], [b]) => Number(a) - Number(b));
    for (const [, t] of entries) add(t);
  } else {
    for (const t of [...fileTokens].sort((a, b) => a.id - b.id)) add({ ...t, single_word: t.singleWord });
  }
  for (const key of SPECIAL_ATTRIBUTES) {
    const value = specialValue(config, key, defaults);
    if (value) add({ special: true, ...value });
  }
  const extra = config.extra_special_tokens ?? config.additional_special_tokens;
  if (Array.isArray(extra))
    for (const t of extra) add(typeof t === 'string' ? { content: t, special: true, normalized: false } : { special: true, ...t });
  return out;
}

/**
 * The post-processor: XLM-R's and DeBERTa's classes always set their own; ALBERT's keeps tokenizer.json's
 * (its own where there is none); a generic class keeps tokenizer.json's. Where tokenizer_config.json sets
 * add_bos_token or add_eos_token (ALBERT), or a generic tokenizer.json has none, transformers writes
 * `[bos] $A [eos]` from those flags instead; it drops both flags when the folder has a tokenizer.json.
 */
function template(
  cls: PipelineClass | undefined,
  source: UnigramSource,
  config: Json,
  defaults: Record<string, string>,
  lookup: (token: string) => number,
): Template {
  const json = source.postProcessor;
  const flags = !source.fromTokenizerJson && ('add_bos_token' in config || 'add_eos_token' in config);
  const token = (key: string) => String(specialValue(config, key, defaults)?.content ?? '');
  const piece = (key: string, typeId: number): TemplatePiece => ({ special: [lookup(token(key))], typeId });
  const A = (typeId: number): TemplatePiece => ({ sequence: 'A', typeId });
  const B = (typeId: number): TemplatePiece => ({ sequence: 'B', typeId });
  if (cls === 'XLMRobertaTokenizer') {
    const [bos, eos] = [piece('bos_token', 0), piece('eos_token', 0)];
    return { single: [bos, A(0), eos], pair: [bos, A(0), eos, eos, B(0), eos] };
  }
  if (cls === 'DebertaV2Tokenizer' || (cls === 'AlbertTokenizer' && !json && !flags)) {
    const single = [piece('cls_token', 0), A(0), piece('sep_token', 0)];
    return { single, pair: [...single, B(1), piece('sep_token', 1)] };
  }
  if (json && !flags) return parsePostProcessor(json, source.path);
  const bos = flags && bool(config.add_bos_token, false) && specialValue(config, 'bos_token', defaults) !== undefined;
  const eos = flags && bool(config.add_eos_token, false) && specialValue(config, 'eos_token', defaults) !== undefined;
  const single = [...(bos ? [piece('bos_token', 0)] : []), A(0), ...(eos ? [piece('eos_token', 0)] : [])];
  return { single, pair: [...single, ...(bos ? [piece('bos_token', 1)] : []), B(1), ...(eos ? [piece('eos_token', 1)] : [])] };
}
