/**
 * Reads a tokenizer from a model folder, as `AutoTokenizer.from_pretrained(folder)` would: `tokenizer.json`
 * when present (WordPiece, byte-level BPE, Unigram); else `vocab.txt` (BERT, DistilBERT) or `vocab.json` +
 * `merges.txt` (RoBERTa) (./load-vocab-files.ts), or a SentencePiece model file (XLM-R, ALBERT,
 * DeBERTa-v3: ./load-sentencepiece.ts), with the options of `tokenizer_config.json` (`do_lower_case`,
 * `strip_accents`, `tokenize_chinese_chars`, `add_prefix_space`, special tokens, `model_max_length`).
 */
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import type { AddedToken } from './added-tokens.js';
import type { BertNormalizerOptions } from './bert-normalizer.js';
import { addedToken, bool, type Json, modelMaxLength, padding, parseJson, readOptional } from './load-common.js';
import { parseNormalizers } from './load-pipeline-json.js';
import { parsePostProcessor } from './load-post-processor.js';
import { SENTENCEPIECE_FILES, sentencepieceSpec } from './load-sentencepiece.js';
import { unigramPieces, unigramSpec, withSpecialTokensMap } from './load-unigram.js';
import { bertNormalizerFromConfig, fromVocabJsonAndMerges, fromVocabTxt, splitMerge } from './load-vocab-files.js';
import { hashSpec, type TokenizerSpec } from './spec.js';
import { Tokenizer } from './tokenizer.js';
import { tokenizerJsonCharsmap } from './transformers-classes.js';

/** Options that override the files' own settings. */
export interface LoadTokenizerOptions {
  /** Force lower-casing on or off (BERT family). */
  lowercase?: boolean;
}

/**
 * Loads the tokenizer of a model folder (tokenizer.json, else vocab.txt or vocab.json + merges.txt, else a
 * SentencePiece model), as transformers' AutoTokenizer reads it.
 */
export async function loadTokenizer(dir: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  return new Tokenizer(await loadTokenizerSpec(dir, options));
}

/** Reads a model folder's tokenizer files into a {@link TokenizerSpec} (what {@link loadTokenizer} builds from). */
export async function loadTokenizerSpec(dir: string, options: LoadTokenizerOptions = {}): Promise<TokenizerSpec> {
  const configPath = join(dir, 'tokenizer_config.json');
  const configText = await readOptional(configPath);
  const config = configText === undefined ? {} : parseJson(configText, configPath);
  // config.json's model_type, and special_tokens_map.json, matter to Unigram folders (see load-unigram.ts).
  const modelConfigPath = join(dir, 'config.json');
  const modelConfigText = await readOptional(modelConfigPath);
  const modelConfig = modelConfigText === undefined ? undefined : parseJson(modelConfigText, modelConfigPath);
  const specialMapPath = join(dir, 'special_tokens_map.json');
  const specialMapText = await readOptional(specialMapPath);
  const unigramConfig = withSpecialTokensMap(config, specialMapText === undefined ? undefined : parseJson(specialMapText, specialMapPath));
  const jsonPath = join(dir, 'tokenizer.json');
  const jsonText = await readOptional(jsonPath);
  let spec: Omit<TokenizerSpec, 'hash'>;
  if (jsonText !== undefined) {
    spec = fromTokenizerJson(parseJson(jsonText, jsonPath), jsonPath, config, { config: unigramConfig, modelConfig });
  } else {
    const vocabTxt = await readOptional(join(dir, 'vocab.txt'));
    const vocabJson = vocabTxt === undefined ? await readOptional(join(dir, 'vocab.json')) : undefined;
    const mergesTxt = vocabJson === undefined ? undefined : await readOptional(join(dir, 'merges.txt'));
    if (vocabTxt !== undefined) {
      spec = fromVocabTxt(vocabTxt, config);
    } else if (vocabJson !== undefined && mergesTxt !== undefined) {
      spec = fromVocabJsonAndMerges(parseJson(vocabJson, join(dir, 'vocab.json')), mergesTxt, config);
    } else {
      const fromModel = await sentencepieceSpec(dir, unigramConfig, modelConfig);
      if (fromModel === undefined) {
        throw new HealbertError(
          'ERR_IO',
          `${dir}: no tokenizer found (expected tokenizer.json, vocab.txt, vocab.json with merges.txt, or a SentencePiece ${Object.values(SENTENCEPIECE_FILES).join(', ')})`,
        );
      }
      spec = fromModel;
    }
  }
  if (spec.kind === 'unigram') {
    if (modelConfig !== undefined) spec.files.push(modelConfigPath);
    if (specialMapText !== undefined && unigramConfig !== config) spec.files.push(specialMapPath);
  }
  if (configText !== undefined) spec.files.push(configPath);
  if (options.lowercase !== undefined && spec.normalizer !== null) {
    spec.normalizer = { ...spec.normalizer, lowercase: options.lowercase, stripAccents: readStripAccents(config, options.lowercase) };
  }
  return { ...spec, files: spec.files.map((f) => (f.startsWith(dir) ? f : join(dir, f))), hash: hashSpec(spec) };
}

function readStripAccents(config: Json, lowercase: boolean): boolean {
  return typeof config.strip_accents === 'boolean' ? config.strip_accents : lowercase;
}

/** `unigram`: what a Unigram tokenizer.json also reads (tokenizer_config.json with special_tokens_map.json, config.json). */
function fromTokenizerJson(
  json: Json,
  path: string,
  config: Json,
  unigram: { config: Json; modelConfig: Json | undefined },
): Omit<TokenizerSpec, 'hash'> {
  const fail = (what: string): never => {
    throw new HealbertError('ERR_DATA', `${path}: ${what}`);
  };
  const model = (json.model ?? fail('no "model"')) as Json;
  // Older files (bert-base-uncased's among them) leave out the model's type; Rust infers it from the fields.
  const modelType =
    model.type ??
    ('merges' in model ? 'BPE' : 'max_input_chars_per_word' in model ? 'WordPiece' : Array.isArray(model.vocab) ? 'Unigram' : undefined);
  const addedTokens: AddedToken[] = ((json.added_tokens ?? []) as Json[]).map((t) => addedToken(t, Number(t.id)));
  const vocabEntries = (vocab: unknown): [string, number][] =>
    Object.entries((vocab ?? fail('model without "vocab"')) as Record<string, number>);
  const normalizerJson = json.normalizer as Json | null | undefined;
  const preTokenizer = json.pre_tokenizer as Json | null | undefined;
  if (modelType === 'Unigram') {
    const source = {
      pieces: unigramPieces(model.vocab, path),
      unkId: typeof model.unk_id === 'number' ? model.unk_id : null,
      byteFallback: bool(model.byte_fallback, false),
      addedTokens,
      normalizer: normalizerJson,
      preTokenizer,
      postProcessor: json.post_processor as Json | null | undefined,
      charsmap: tokenizerJsonCharsmap(normalizerJson),
      fromTokenizerJson: true,
      path,
      files: [path],
    };
    return unigramSpec(source, unigram.config, unigram.modelConfig);
  }
  const template = parsePostProcessor(json.post_processor as Json | null | undefined, path);
  const base = { modelMaxLength: modelMaxLength(config), files: [path] };
  if (modelType === 'WordPiece') {
    let normalizer: BertNormalizerOptions | null = null;
    if (normalizerJson) {
      if (normalizerJson.type !== 'BertNormalizer')
        fail(`unsupported normalizer '${String(normalizerJson.type)}' (healbert supports BertNormalizer)`);
      const lowercase = bool(normalizerJson.lowercase, true);
      const stripAccentsSet = typeof normalizerJson.strip_accents === 'boolean';
      normalizer = bertNormalizerFromConfig(config, {
        cleanText: bool(normalizerJson.clean_text, true),
        handleChineseChars: bool(normalizerJson.handle_chinese_chars, true),
        lowercase,
        stripAccents: stripAccentsSet ? (normalizerJson.strip_accents as boolean) : lowercase,
        stripAccentsSet,
      });
    }
    if (preTokenizer && preTokenizer.type !== 'BertPreTokenizer') {
      fail(`unsupported pre-tokenizer '${String(preTokenizer.type)}' for WordPiece (healbert supports BertPreTokenizer)`);
    }
    const vocab = vocabEntries(model.vocab);
    return {
      kind: 'wordpiece',
      model: {
        type: 'WordPiece',
        vocab,
        unkToken: String(model.unk_token ?? '[UNK]'),
        continuingSubwordPrefix: String(model.continuing_subword_prefix ?? '##'),
        maxInputCharsPerWord: Number(model.max_input_chars_per_word ?? 100),
      },
      normalizer,
      addedTokens,
      template,
      ...padding(config, '[PAD]', vocab, addedTokens, path),
      ...base,
    };
  }
  if (modelType === 'BPE') {
    // ModernBERT's byte-level BPE carries a normalizer (NFC); any of the data-driven ones runs first.
    const normalizers = parseNormalizers(normalizerJson, path);
    if (preTokenizer?.type !== 'ByteLevel' || preTokenizer.use_regex === false) {
      fail('unsupported pre-tokenizer for BPE (healbert supports ByteLevel with its regex, as in GPT-2 and RoBERTa)');
    }
    if (model.dropout !== null && model.dropout !== undefined) fail('BPE dropout is not supported');
    const merges = ((model.merges ?? fail('BPE model without "merges"')) as (string | [string, string])[]).map((m): [string, string] =>
      typeof m === 'string' ? splitMerge(m, path) : [m[0], m[1]],
    );
    const vocab = vocabEntries(model.vocab);
    return {
      kind: 'byte-level-bpe',
      model: {
        type: 'BPE',
        vocab,
        merges,
        addPrefixSpace: bool(config.add_prefix_space, bool((preTokenizer as Json).add_prefix_space, false)),
      },
      normalizer: null,
      ...(normalizers.length > 0 ? { normalizers } : {}),
      addedTokens,
      template,
      ...padding(config, '<pad>', vocab, addedTokens, path),
      ...base,
    };
  }
  return fail(`model.type: unsupported model type '${String(modelType)}' (healbert supports WordPiece, BPE and Unigram)`);
}
