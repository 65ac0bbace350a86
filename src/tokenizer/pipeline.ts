/**
 * The Hugging Face pipeline for models that take a normalizer and pre-tokenizers from data (Unigram):
 * added tokens that match the raw text are split out first; each text between them is normalized; added
 * tokens marked `normalized` are then matched in the normalized text (their own content normalized the
 * same way); what remains is pre-tokenized into words, and the model tokenizes each word.
 */
import { type AddedToken, AddedTokenMatcher } from './added-tokens.js';
import {
  compileNormalizers,
  compileNormalizersTracking,
  type Normalize,
  type NormalizerStep,
  type NormalizeTracking,
} from './normalizers.js';
import { type Piece, type PreTokenizerStep, preTokenize } from './pre-tokenizers.js';

export interface PipelineSpec {
  normalizers: readonly NormalizerStep[];
  preTokenizers: readonly PreTokenizerStep[];
  addedTokens: readonly AddedToken[];
}

/** Appends the ids of one word (a pre-token) to `out`. */
export type WordModel = (word: string, out: number[]) => void;

const LONE_SURROGATE = /\p{Cs}/gu;

export class TextPipeline {
  private readonly normalize: Normalize;
  private readonly normalizeTracking: NormalizeTracking;
  private readonly raw: AddedTokenMatcher;
  private readonly normalized: AddedTokenMatcher;
  private readonly preTokenizers: readonly PreTokenizerStep[];
  /** Whether a Metaspace with the 'first' scheme runs after a split (then leading removals matter). */
  private readonly checksLeadingRemoval: boolean;

  constructor(
    spec: PipelineSpec,
    private readonly model: WordModel,
    what: string,
  ) {
    this.normalize = compileNormalizers(spec.normalizers, `${what}: normalizer`);
    this.normalizeTracking = compileNormalizersTracking(spec.normalizers, `${what}: normalizer`);
    this.raw = new AddedTokenMatcher(spec.addedTokens.filter((t) => !t.normalized));
    this.normalized = new AddedTokenMatcher(
      spec.addedTokens.filter((t) => t.normalized).map((t) => ({ ...t, content: this.normalize(t.content) })),
    );
    const firstMetaspace = spec.preTokenizers.findIndex((s) => s.type === 'Metaspace' && s.prependScheme === 'first');
    this.preTokenizers = spec.preTokenizers;
    this.checksLeadingRemoval = firstMetaspace > 0 || (firstMetaspace === 0 && this.normalized.tokens.length > 0);
  }

  /**
   * Token ids of a text (no special tokens around it). With `limit`, stops after the first word that
   * brings the count to `limit` or more; added tokens are counted but never stop it (see Tokenizer.tokenize).
   */
  tokenize(text: string, limit = Number.POSITIVE_INFINITY): number[] {
    // An empty sequence has nothing to normalize (a normalizer that inserts text, on nothing, is not run).
    if (text === '') return [];
    // Strings reach Rust as UTF-8, where a lone surrogate is U+FFFD.
    const input = text.replace(LONE_SURROGATE, '\uFFFD');
    const out: number[] = [];
    const segments = this.raw.none(input) ? [{ text: input }] : this.raw.split(input);
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as { text: string } | { id: number };
      if ('id' in segment) out.push(segment.id);
      else if (this.encodeSegment(segment.text, i === 0, out, limit)) break;
    }
    return out;
  }

  /** Appends the ids of raw text without raw added tokens; true when a word brought the count to `limit`. */
  private encodeSegment(raw: string, atStart: boolean, out: number[], limit: number): boolean {
    // Whether normalization dropped the segment's first characters matters only for Metaspace's 'first'.
    const { text, leadingRemoved } =
      atStart && this.checksLeadingRemoval ? this.normalizeTracking(raw) : { text: this.normalize(raw), leadingRemoved: false };
    if (this.normalized.none(text)) return this.encodePiece({ text, atStart, leadingRemoved }, out, limit);
    // Cut out of the normalized text, a part starts where its first character came from.
    const parts = this.normalized.split(text);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as { text: string } | { id: number };
      if ('id' in part) out.push(part.id);
      else if (this.encodePiece({ text: part.text, atStart: atStart && i === 0 && !leadingRemoved }, out, limit)) return true;
    }
    return false;
  }

  private encodePiece(piece: Piece, out: number[], limit: number): boolean {
    for (const word of preTokenize(this.preTokenizers, piece)) {
      this.model(word.text, out);
      if (out.length >= limit) return true;
    }
    return false;
  }
}
