/**
 * The tokenizer files older than tokenizer.json: vocab.txt (BERT, DistilBERT) and vocab.json + merges.txt
 * (RoBERTa), with the options of tokenizer_config.json, as transformers builds the same tokenizers.
 */
import { HealbertError } from '../errors.js';
import type { AddedToken } from './added-tokens.js';
import type { BertNormalizerOptions } from './bert-normalizer.js';
import { bool, configToken, type Json, modelMaxLength } from './load-common.js';
import { bertTemplate, robertaTemplate } from './load-post-processor.js';
import type { TokenizerSpec } from './spec.js';

/** BERT normalizer options from tokenizer_config.json over a base (the tokenizer.json's, or BERT's defaults). */
export function bertNormalizerFromConfig(config: Json, base: BertNormalizerOptions & { stripAccentsSet: boolean }): BertNormalizerOptions {
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

export function splitMerge(line: string, path: string): [string, string] {
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

export function fromVocabTxt(text: string, config: Json): Omit<TokenizerSpec, 'hash'> {
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

export function fromVocabJsonAndMerges(vocabJson: Json, mergesText: string, config: Json): Omit<TokenizerSpec, 'hash'> {
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
