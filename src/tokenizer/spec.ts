/**
 * The plain-data description of a tokenizer: everything that decides its ids, and nothing else. It is
 * what workers receive (it survives structured cloning) and what the content hash covers.
 */
import { createHash } from 'node:crypto';
import type { AddedToken } from './added-tokens.js';
import type { BertNormalizerOptions } from './bert-normalizer.js';
import type { NormalizerStep } from './normalizers.js';
import type { Template } from './post-process.js';
import type { PreTokenizerStep } from './pre-tokenizers.js';

/** Bumped when a change in this implementation could change ids, so that cached datasets are rebuilt. */
// 2: added tokens no longer stop tokenization at maxLength (only words do); RoBERTa from vocab.json without
// a tokenizer_config.json saying so no longer lstrips <mask> (both as transformers 5.17).
/** Changes when tokenization changes for some input; part of the tokenized-split cache key. */
export const TOKENIZER_IMPLEMENTATION_VERSION = 2;

/** A WordPiece model (BERT, DistilBERT, ELECTRA): vocabulary, unknown token and continuing-subword prefix. */
export interface WordPieceModelSpec {
  type: 'WordPiece';
  vocab: [string, number][];
  unkToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
}

/** A byte-level BPE model (RoBERTa): vocabulary, merges and whether a space is prefixed. */
export interface ByteLevelBpeModelSpec {
  type: 'BPE';
  vocab: [string, number][];
  merges: [string, string][];
  addPrefixSpace: boolean;
}

/** SentencePiece's Unigram (XLM-R, ALBERT, DeBERTa-v3): pieces scored by log probability. */
export interface UnigramModelSpec {
  type: 'Unigram';
  /** [piece, id]; the id is the piece's index. */
  vocab: [string, number][];
  /** The score of each piece, by id. */
  scores: number[];
  unkId: number | null;
  byteFallback: boolean;
}

/**
 * A tokenizer as data: its model (WordPiece, byte-level BPE or Unigram), normalizer, pre-tokenizer, added tokens and
 * post-processing template.
 */
export interface TokenizerSpec {
  /** 'wordpiece' (BERT, DistilBERT), 'byte-level-bpe' (RoBERTa) or 'unigram' (XLM-R, ALBERT, DeBERTa-v3). */
  kind: 'wordpiece' | 'byte-level-bpe' | 'unigram';
  model: WordPieceModelSpec | ByteLevelBpeModelSpec | UnigramModelSpec;
  /** BERT normalization (WordPiece), or null for none. */
  normalizer: BertNormalizerOptions | null;
  /** Normalizers from data, in order (Unigram; byte-level BPE where tokenizer.json has one). */
  normalizers?: NormalizerStep[];
  /** Pre-tokenizers from data, in order (Unigram). */
  preTokenizers?: PreTokenizerStep[];
  /** The transformers class whose pipeline this is, where it is not the tokenizer.json's own (for messages). */
  transformersClass?: string;
  addedTokens: AddedToken[];
  template: Template;
  padId: number;
  padToken: string;
  /** `model_max_length` from tokenizer_config.json, when given. */
  modelMaxLength: number | undefined;
  /** Files it was read from (for messages; not hashed). */
  files: string[];
  /** sha256 over the fields above except `files` and `hash`, plus the implementation version. */
  hash: string;
}

export function hashSpec(spec: Omit<TokenizerSpec, 'hash' | 'files'>): string {
  const hash = createHash('sha256');
  hash.update(`healbert-tokenizer-v${TOKENIZER_IMPLEMENTATION_VERSION}\n`);
  hash.update(
    JSON.stringify({
      kind: spec.kind,
      normalizer: spec.normalizer,
      // Absent (and so not hashed) for WordPiece and plain byte-level BPE, whose hashes stay as they were.
      normalizers: spec.normalizers,
      preTokenizers: spec.preTokenizers,
      addedTokens: spec.addedTokens,
      template: spec.template,
      padId: spec.padId,
      padToken: spec.padToken,
    }),
  );
  const { vocab, ...modelOptions } = spec.model;
  hash.update(JSON.stringify({ ...modelOptions, merges: undefined }));
  for (const [token, id] of vocab) hash.update(`${id}\t${token}\n`);
  if (spec.model.type === 'BPE') for (const [a, b] of spec.model.merges) hash.update(`${a} ${b}\n`);
  return hash.digest('hex');
}
