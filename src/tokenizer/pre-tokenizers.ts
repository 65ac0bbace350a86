/**
 * Pre-tokenizers of a tokenizer.json for the models that take one (Unigram): Hugging Face's
 * `WhitespaceSplit`, `Metaspace` and `Punctuation`, a `Sequence` flattened into the list. Each step splits
 * every piece it is given into smaller ones; the model then tokenizes each final piece (a "word").
 */
import { HealbertError } from '../errors.js';
import { charFlags, isRustWhitespace, PUNCTUATION } from './unicode.js';

/** How a split treats its delimiters (Hugging Face's `SplitDelimiterBehavior`). */
export type SplitBehavior = 'removed' | 'isolated' | 'merged_with_previous' | 'merged_with_next' | 'contiguous';
export const SPLIT_BEHAVIORS: readonly SplitBehavior[] = ['removed', 'isolated', 'merged_with_previous', 'merged_with_next', 'contiguous'];

/** When Metaspace puts its replacement character in front of a piece: always, only the first piece, or never. */
export type PrependScheme = 'always' | 'first' | 'never';

/** One pre-tokenization step of a tokenizer (whitespace, Metaspace, punctuation, byte-level, regex splits). */
export type PreTokenizerStep =
  | { type: 'WhitespaceSplit' }
  /** Spaces become `replacement`; the piece gets one in front per the scheme; then split before each. */
  | { type: 'Metaspace'; replacement: string; prependScheme: PrependScheme; split: boolean }
  | { type: 'Punctuation'; behavior: SplitBehavior };

export const PRE_TOKENIZER_TYPES = ['Sequence', 'WhitespaceSplit', 'Metaspace', 'Punctuation'] as const;

/**
 * A piece of normalized text. `atStart`: it begins where the input text begins (offset 0 of the
 * original), which decides Metaspace's 'first' scheme. Hugging Face measures that offset through its
 * alignments: a piece that was never split starts where its segment starts, even when the normalizer
 * removed the first characters (`leadingRemoved`); a piece cut from it starts where its first remaining
 * character came from, so after such a removal none of them is at the start.
 */
export interface Piece {
  text: string;
  atStart: boolean;
  leadingRemoved?: boolean;
}

type Span = [start: number, end: number, isDelimiter: boolean];

/** The spans of `text` cut at every character for which `isDelimiter` holds, each such character a span. */
function spans(text: string, isDelimiter: (cp: number) => boolean): Span[] {
  const out: Span[] = [];
  let start = 0;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i) as number;
    const width = cp > 0xffff ? 2 : 1;
    if (isDelimiter(cp)) {
      if (i > start) out.push([start, i, false]);
      out.push([i, i + width, true]);
      start = i + width;
    }
    i += width;
  }
  if (start < text.length) out.push([start, text.length, false]);
  return out;
}

/** Hugging Face's `NormalizedString::split` with a per-character pattern; empty pieces never appear. */
export function splitPiece(piece: Piece, isDelimiter: (cp: number) => boolean, behavior: SplitBehavior, out: Piece[]): void {
  const all = spans(piece.text, isDelimiter);
  let merged: [number, number][] = [];
  switch (behavior) {
    case 'removed':
      merged = all.filter((s) => !s[2]).map(([a, b]) => [a, b]);
      break;
    case 'isolated':
      merged = all.map(([a, b]) => [a, b]);
      break;
    case 'contiguous':
      for (let i = 0; i < all.length; i++) {
        const [a, b, d] = all[i] as Span;
        const last = merged.at(-1);
        if (d && last && i > 0 && (all[i - 1] as Span)[2]) last[1] = b;
        else merged.push([a, b]);
      }
      break;
    case 'merged_with_previous': {
      let previous = false;
      for (const [a, b, d] of all) {
        const last = merged.at(-1);
        if (d && !previous && last) last[1] = b;
        else merged.push([a, b]);
        previous = d;
      }
      break;
    }
    case 'merged_with_next': {
      let next = false;
      for (let i = all.length - 1; i >= 0; i--) {
        const [a, b, d] = all[i] as Span;
        const first = merged.at(-1);
        if (d && !next && first) first[0] = a;
        else merged.push([a, b]);
        next = d;
      }
      merged.reverse();
      break;
    }
  }
  const atStart = piece.atStart && !piece.leadingRemoved;
  for (const [a, b] of merged) out.push({ text: piece.text.slice(a, b), atStart: atStart && a === 0 });
}

const isPunctuation = (cp: number) => (charFlags(cp) & PUNCTUATION) !== 0;

function applyStep(step: PreTokenizerStep, pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  switch (step.type) {
    case 'WhitespaceSplit':
      for (const piece of pieces) splitPiece(piece, isRustWhitespace, 'removed', out);
      return out;
    case 'Punctuation':
      for (const piece of pieces) splitPiece(piece, isPunctuation, step.behavior, out);
      return out;
    case 'Metaspace': {
      const { replacement, prependScheme } = step;
      const code = replacement.codePointAt(0) as number;
      for (const piece of pieces) {
        let text = piece.text.includes(' ') ? piece.text.replaceAll(' ', replacement) : piece.text;
        const prepend = prependScheme === 'always' || (prependScheme === 'first' && piece.atStart);
        if (prepend && text !== '' && !text.startsWith(replacement)) text = replacement + text;
        if (step.split) splitPiece({ ...piece, text }, (cp) => cp === code, 'merged_with_next', out);
        else if (text !== '') out.push({ ...piece, text });
      }
      return out;
    }
    default:
      throw new HealbertError('ERR_INTERNAL', `unknown pre-tokenizer step ${JSON.stringify(step)}`);
  }
}

/** Runs the steps in order over one piece of normalized text. */
export function preTokenize(steps: readonly PreTokenizerStep[], piece: Piece): Piece[] {
  let pieces = piece.text === '' ? [] : [piece];
  for (const step of steps) pieces = applyStep(step, pieces);
  return pieces;
}
