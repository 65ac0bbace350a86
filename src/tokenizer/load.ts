/**
 * Reads a tokenizer from a model folder, as `AutoTokenizer.from_pretrained(folder)` would: `tokenizer.json`
 * when present; else `vocab.txt` (BERT, DistilBERT) or `vocab.json` + `merges.txt` (RoBERTa), with the
 * options of `tokenizer_config.json` (`do_lower_case`, `strip_accents`, `tokenize_chinese_chars`,
 * `add_prefix_space`, special tokens, `model_max_length`).
 */
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import type { AddedToken } from './added-tokens.js';
import type { BertNormalizerOptions } from './bert-normalizer.js';
import { addedToken, bool, configToken, type Json, modelMaxLength, padding, parseJson, readOptional } from './load-common.js';
import { bertTemplate, parsePostProcessor, robertaTemplate } from './load-post-processor.js';
import { hashSpec, type TokenizerSpec } from './spec.js';
import { Tokenizer } from './tokenizer.js';

/** Options that override the files' own settings. */
export interface LoadTokenizerOptions {
  /** Force lower-casing on or off (BERT family). */
  lowercase?: boolean;
}

export async function loadTokenizer(dir: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  return new Tokenizer(await loadTokenizerSpec(dir, options));
}

export async function loadTokenizerSpec(dir: string, options: LoadTokenizerOptions = {}): Promise<TokenizerSpec> {
  const configPath = join(dir, 'tokenizer_config.json');
  const configText = await readOptional(configPath);
  const config = configText === undefined ? {} : parseJson(configText, configPath);
  const jsonPath = join(dir, 'tokenizer.json');
  const jsonText = await readOptional(jsonPath);
  let spec: Omit<TokenizerSpec, 'hash'>;
  if (jsonText !== undefined) {
    spec = fromTokenizerJson(parseJson(jsonText, jsonPath), jsonPath, config);
  } else {
    const vocabTxt = await readOptional(join(dir, 'vocab.txt'));
    if (vocabTxt !== undefined) {
      spec = fromVocabTxt(vocabTxt, config);
    } else {
      const vocabJson = await readOptional(join(dir, 'vocab.json'));
      const mergesTxt = await readOptional(join(dir, 'merges.txt'));
      if (vocabJson === undefined || mergesTxt === undefined) {
        throw new HealbertError('ERR_IO', `${dir}: no tokenizer found (expected tokenizer.json, vocab.txt, or vocab.json with merges.txt)`);
      }
      spec = fromVocabJsonAndMerges(parseJson(vocabJson, join(dir, 'vocab.json')), mergesTxt, config);
    }
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

/** BERT normalizer options from tokenizer_config.json over a base (the tokenizer.json's, or BERT's defaults). */
function bertNormalizerFromConfig(config: Json, base: BertNormalizerOptions & { stripAccentsSet: boolean }): BertNormalizerOptions {
  const lowercase = bool(config.do_lower_case, base.lowercase);
  const stripAccents =
    typeof config.strip_accents === 'boolean' ? config.strip_accents : base.stripAccentsSet ? base.stripAccents : lowercase;
  return {
    cleanText: base.cleanText,
    handleChineseChars: bool(config.tokenize_chinese_chars, base.handleChineseChars),
    stripAccents,
    lowercase,
  };
}

function fromTokenizerJson(json: Json, path: string, config: Json): Omit<TokenizerSpec, 'hash'> {
  const fail = (what: string): never => {
    throw new HealbertError('ERR_DATA', `${path}: ${what}`);
  };
  const model = (json.model ?? fail('no "model"')) as Json;
  // Older files (bert-base-uncased's among them) leave out the model's type; Rust infers it from the fields.
  const modelType = model.type ?? ('merges' in model ? 'BPE' : 'max_input_chars_per_word' in model ? 'WordPiece' : undefined);
  const addedTokens: AddedToken[] = ((json.added_tokens ?? []) as Json[]).map((t) => addedToken(t, Number(t.id)));
  const vocabEntries = (vocab: unknown): [string, number][] =>
    Object.entries((vocab ?? fail('model without "vocab"')) as Record<string, number>);
  const normalizerJson = json.normalizer as Json | null | undefined;
  const preTokenizer = json.pre_tokenizer as Json | null | undefined;
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
    if (normalizerJson)
      fail(`unsupported normalizer '${String(normalizerJson.type)}' for BPE (healbert supports byte-level BPE without one)`);
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
      addedTokens,
      template,
      ...padding(config, '<pad>', vocab, addedTokens, path),
      ...base,
    };
  }
  return fail(`unsupported model type '${String(modelType)}' (healbert supports WordPiece and BPE)`);
}

function splitMerge(line: string, path: string): [string, string] {
  const space = line.indexOf(' ');
  if (space <= 0 || space === line.length - 1) throw new HealbertError('ERR_DATA', `${path}: malformed merge '${line}'`);
  return [line.slice(0, space), line.slice(space + 1)];
}

/**
 * How a special token matches, as tokenizer_config.json gives it: its entry in `added_tokens_decoder`
 * (transformers >= 4.34 writes those), else an AddedToken object under its own key (older files), else
 * plain (no lstrip, rstrip or single_word): what transformers 5 does. (transformers 4.x lstripped
 * RoBERTa's <mask> even without a config saying so; 5.x does not.)
 */
function configTokenFlags(config: Json, key: string, content: string): Omit<AddedToken, 'content' | 'id' | 'special'> {
  const decoder = config.added_tokens_decoder;
  const fromDecoder =
    typeof decoder === 'object' && decoder !== null
      ? Object.values(decoder as Record<string, unknown>).find(
          (t): t is Json => typeof t === 'object' && t !== null && (t as Json).content === content,
        )
      : undefined;
  const own = config[key];
  const entry = fromDecoder ?? (typeof own === 'object' && own !== null && (own as Json).content === content ? (own as Json) : {});
  return {
    lstrip: bool(entry.lstrip, false),
    rstrip: bool(entry.rstrip, false),
    singleWord: bool(entry.single_word, false),
    normalized: bool(entry.normalized, false),
  };
}

/** The special tokens (config key -> content) that are in the vocabulary, as added tokens, by id. */
function specialTokens(tokens: [key: string, content: string][], vocab: Map<string, number>, config: Json): AddedToken[] {
  const out: AddedToken[] = [];
  const seen = new Set<string>();
  for (const [key, content] of tokens) {
    const id = vocab.get(content);
    if (id === undefined || seen.has(content)) continue;
    seen.add(content);
    out.push({ content, id, special: true, ...configTokenFlags(config, key, content) });
  }
  return out.sort((a, b) => a.id - b.id);
}

function fromVocabTxt(text: string, config: Json): Omit<TokenizerSpec, 'hash'> {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  // Hugging Face's load_vocab: one token per line, trailing newline stripped, ids in line order.
  const vocab: [string, number][] = lines.map((line, i) => [line.replace(/\r$/, ''), i]);
  const map = new Map<string, number>();
  for (const [token, id] of vocab) if (!map.has(token)) map.set(token, id);
  const names = ['unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];
  const defaults = ['[UNK]', '[SEP]', '[PAD]', '[CLS]', '[MASK]'];
  const [unk, sep, pad, cls, mask] = names.map((n, i) => configToken(config, n, defaults[i] as string)) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const addedTokens = specialTokens(
    [
      ['pad_token', pad],
      ['unk_token', unk],
      ['cls_token', cls],
      ['sep_token', sep],
      ['mask_token', mask],
    ],
    map,
    config,
  );
  const need = (token: string): number => {
    const id = map.get(token);
    if (id === undefined) throw new HealbertError('ERR_DATA', `vocab.txt: the special token '${token}' is not in the vocabulary`);
    return id;
  };
  const lowercase = bool(config.do_lower_case, true);
  return {
    kind: 'wordpiece',
    model: { type: 'WordPiece', vocab: [...map.entries()], unkToken: unk, continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 },
    normalizer: bertNormalizerFromConfig(config, {
      cleanText: true,
      handleChineseChars: true,
      lowercase,
      stripAccents: lowercase,
      stripAccentsSet: false,
    }),
    addedTokens,
    template: bertTemplate(need(cls), need(sep)),
    padToken: pad,
    padId: need(pad),
    modelMaxLength: modelMaxLength(config),
    files: ['vocab.txt'],
  };
}

function fromVocabJsonAndMerges(vocabJson: Json, mergesText: string, config: Json): Omit<TokenizerSpec, 'hash'> {
  const vocab = Object.entries(vocabJson).map(([t, id]): [string, number] => [t, Number(id)]);
  const map = new Map(vocab);
  const merges = mergesText
    .split('\n')
    .filter((line, i) => line !== '' && !(i === 0 && line.startsWith('#version')))
    .map((line) => splitMerge(line, 'merges.txt'));
  const names = ['bos_token', 'eos_token', 'sep_token', 'cls_token', 'unk_token', 'pad_token', 'mask_token'];
  const defaults = ['<s>', '</s>', '</s>', '<s>', '<unk>', '<pad>', '<mask>'];
  const [bos, eos, sep, cls, unk, pad, mask] = names.map((n, i) => configToken(config, n, defaults[i] as string)) as string[] as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const need = (token: string): number => {
    const id = map.get(token);
    if (id === undefined) throw new HealbertError('ERR_DATA', `vocab.json: the special token '${token}' is not in the vocabulary`);
    return id;
  };
  return {
    kind: 'byte-level-bpe',
    model: { type: 'BPE', vocab, merges, addPrefixSpace: bool(config.add_prefix_space, false) },
    normalizer: null,
    // <mask> absorbs the space before it only where tokenizer_config.json says so (see configTokenFlags).
    addedTokens: specialTokens(
      [
        ['bos_token', bos],
        ['pad_token', pad],
        ['eos_token', eos],
        ['unk_token', unk],
        ['sep_token', sep],
        ['cls_token', cls],
        ['mask_token', mask],
      ],
      map,
      config,
    ),
    template: robertaTemplate(need(cls), need(sep)),
    padToken: pad,
    padId: need(pad),
    modelMaxLength: modelMaxLength(config),
    files: ['vocab.json', 'merges.txt'],
  };
}
