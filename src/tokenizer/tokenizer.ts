/**
 * A tokenizer built from a `TokenizerSpec` (see ./spec.ts): added tokens are split out first, then BERT
 * normalization + WordPiece, byte-level BPE (after a tokenizer.json's normalizers, if any), or the
 * normalizers and pre-tokenizers of a Unigram tokenizer (./pipeline.ts) + Unigram; then truncation and
 * special tokens. Results equal Hugging Face's (transformers' AutoTokenizer); see test/tokenizer/.
 */
import { HealbertError } from '../errors.js';
import { AddedTokenMatcher } from './added-tokens.js';
import { type BertNormalizerOptions, bertWords, isChunkBoundary, preTokenizeBert } from './bert-normalizer.js';
import { ByteLevelBpe } from './byte-level-bpe.js';
import { compileNormalizers, type Normalize } from './normalizers.js';
import { TextPipeline } from './pipeline.js';
import { applyTemplate, type Encoding, specialTokenCount, type TruncationStrategy, truncatedLengths } from './post-process.js';
import type { TokenizerSpec } from './spec.js';
import { Unigram } from './unigram.js';
import { WordPiece } from './wordpiece.js';

/** Options of {@link Tokenizer.encode}: maximum length and truncation strategy. */
export interface EncodeOptions {
  /** Longest result, special tokens included. Omitted: no truncation. */
  maxLength?: number;
  /** How a pair is shortened to `maxLength` (default 'longest_first', as Hugging Face's `truncation=True`). */
  truncation?: TruncationStrategy;
  /** Add [CLS]/[SEP] (or <s>/</s>) (default true). */
  addSpecialTokens?: boolean;
}

export type { Encoding };

const CHUNK_CACHE_LIMIT = 500_000;

/** A tokenizer that gives the ids transformers gives: encode a text or a pair into ids, segment ids and an attention mask. */
export class Tokenizer {
  readonly spec: TokenizerSpec;
  private readonly matcher: AddedTokenMatcher;
  private readonly wordPiece: WordPiece | undefined;
  private readonly bpe: ByteLevelBpe | undefined;
  /** A byte-level BPE tokenizer.json's normalizers (ModernBERT's NFC, say). */
  private readonly bpeNormalize: Normalize | undefined;
  /** Unigram's whole pipeline, added tokens included. */
  private readonly pipeline: TextPipeline | undefined;
  private readonly normalizer: BertNormalizerOptions | null;
  /** Raw chunk (text between whitespace) -> its ids, and where each of its words ends. */
  private readonly chunkCache = new Map<string, { ids: number[]; wordEnds: number[] }>();
  private readonly words: string[] = [];

  constructor(spec: TokenizerSpec) {
    this.spec = spec;
    this.matcher = new AddedTokenMatcher(spec.addedTokens);
    this.normalizer = spec.normalizer;
    const vocab = new Map(spec.model.vocab);
    const what = spec.files[0] ?? 'tokenizer';
    if (spec.model.type === 'WordPiece') {
      this.wordPiece = new WordPiece(vocab, spec.model);
    } else if (spec.model.type === 'BPE') {
      this.bpe = new ByteLevelBpe(vocab, spec.model.merges, { addPrefixSpace: spec.model.addPrefixSpace });
      if (spec.normalizers?.length) this.bpeNormalize = compileNormalizers(spec.normalizers, `${what}: normalizer`);
    } else {
      const { vocab: pieces, scores, unkId, byteFallback } = spec.model;
      const unigram = new Unigram(
        pieces.map(([piece], i) => [piece, scores[i] as number]),
        { unkId, byteFallback },
      );
      this.pipeline = new TextPipeline(
        { normalizers: spec.normalizers ?? [], preTokenizers: spec.preTokenizers ?? [], addedTokens: spec.addedTokens },
        (word, out) => unigram.tokenize(word, out),
        what,
      );
    }
  }

  /** A content hash of everything that decides the ids (see spec.ts). */
  get hash(): string {
    return this.spec.hash;
  }

  /** The id of the padding token. */
  get padId(): number {
    return this.spec.padId;
  }

  /** Number of special tokens added to one sequence, or to a pair. */
  specialTokenCount(pair: boolean): number {
    return specialTokenCount(pair ? this.spec.template.pair : this.spec.template.single);
  }

  /**
   * Token ids of a text without special tokens (added tokens in the text are recognised). With `limit`,
   * tokenization stops after the first word (pre-token) that brings the count to `limit` or more, as
   * Hugging Face tokenizers does when truncation is on; the result can then exceed `limit` by part of a word.
   * Only words the model tokenizes are checked: added tokens are counted but never stop it, so a run of
   * them goes in whole, up to the next word (transformers 5.17 / tokenizers 0.23 measured, see
   * test/tokenizer/transformers-parity.test.ts).
   */
  tokenize(text: string, limit = Number.POSITIVE_INFINITY): number[] {
    if (this.pipeline !== undefined) return this.pipeline.tokenize(text, limit);
    const out: number[] = [];
    if (this.matcher.none(text)) {
      this.encodeSegment(text, out, limit);
      return out;
    }
    for (const segment of this.matcher.split(text)) {
      if ('id' in segment) out.push(segment.id);
      else if (this.encodeSegment(segment.text, out, limit)) break;
    }
    return out;
  }

  /** Encodes a text, or a pair, into ids and segment ids with the special tokens, truncated as transformers truncates. */
  encode(text: string, pair?: string, options: EncodeOptions = {}): Encoding {
    // Hugging Face stops tokenizing each sequence once it holds maxLength tokens; which of two long
    // sequences then counts as the longer one (and keeps the odd token) depends on where that stop falls.
    const limit = options.maxLength ?? Number.POSITIVE_INFINITY;
    return this.encodeIds(this.tokenize(text, limit), pair === undefined ? undefined : this.tokenize(pair, limit), options);
  }

  /** Truncation and special tokens over already tokenized sequences. */
  encodeIds(a: number[], b: number[] | undefined, options: EncodeOptions = {}): Encoding {
    const addSpecial = options.addSpecialTokens ?? true;
    const pieces = b === undefined ? this.spec.template.single : this.spec.template.pair;
    if (options.maxLength !== undefined) {
      const special = addSpecial ? specialTokenCount(pieces) : 0;
      if (!Number.isInteger(options.maxLength) || options.maxLength < special) {
        throw new HealbertError(
          'ERR_ARGUMENT',
          `maxLength must be an integer >= ${special} (the special tokens), got ${options.maxLength}`,
        );
      }
      const [k1, k2] = truncatedLengths(a.length, b?.length, options.maxLength - special, options.truncation ?? 'longest_first');
      if (k1 < a.length) a = a.slice(0, k1);
      if (b !== undefined && k2 < b.length) b = b.slice(0, k2);
    }
    if (!addSpecial) {
      const inputIds = b === undefined ? a : [...a, ...b];
      return { inputIds, tokenTypeIds: [...new Array<number>(a.length).fill(0), ...new Array<number>(b?.length ?? 0).fill(1)] };
    }
    return applyTemplate(pieces, a, b);
  }

  /** Appends the ids of text without added tokens; true when a word brought the count to `limit`. */
  private encodeSegment(text: string, out: number[], limit: number): boolean {
    if (this.bpe !== undefined) return this.bpe.encode(this.bpeNormalize === undefined ? text : this.bpeNormalize(text), out, limit);
    const cleanText = this.normalizer?.cleanText ?? false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const boundary = c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || (c > 0x7e && c < 0xd800 && isChunkBoundary(c, cleanText));
      if (boundary || (c < 0x20 && !cleanText && (c === 0x0b || c === 0x0c))) {
        if (i > start && this.encodeChunk(text.slice(start, i), out, limit)) return true;
        start = i + 1;
      }
    }
    return start < text.length && this.encodeChunk(start === 0 ? text : text.slice(start), out, limit);
  }

  /** Appends a chunk's ids; true when `limit` was reached (at the end of a word). */
  private encodeChunk(chunk: string, out: number[], limit: number): boolean {
    let entry = this.chunkCache.get(chunk);
    if (entry === undefined) {
      const ids: number[] = [];
      const wordEnds: number[] = [];
      const words = this.words;
      words.length = 0;
      if (this.normalizer === null) preTokenizeBert(chunk, words);
      else bertWords(chunk, this.normalizer, words);
      for (const word of words) {
        (this.wordPiece as WordPiece).tokenize(word, ids);
        wordEnds.push(ids.length);
      }
      entry = { ids, wordEnds };
      if (this.chunkCache.size >= CHUNK_CACHE_LIMIT) this.chunkCache.clear();
      this.chunkCache.set(chunk, entry);
    }
    const { ids, wordEnds } = entry;
    if (out.length + ids.length < limit) {
      for (let i = 0; i < ids.length; i++) out.push(ids[i] as number);
      return false;
    }
    let i = 0;
    for (const end of wordEnds) {
      for (; i < end; i++) out.push(ids[i] as number);
      if (out.length >= limit) return true;
    }
    // No word here (a chunk that normalizes to nothing): nothing to check, even past the limit.
    return false;
  }
}
