/**
 * Unicode normalization forms, accent stripping and lower-casing as Hugging Face's normalizers
 * (`NFC`, `NFD`, `NFKC`, `NFKD`, `StripAccents`, `Lowercase`) do them. Their Rust crate
 * (unicode-normalization-alignments) has tables from an older Unicode version than V8's: a character it
 * does not know keeps its form there, and is not a mark. Those characters are listed in
 * ./unicode-form-exceptions.ts (made by test/fixtures/tokenizer/normalizer-diff.ts); here they are held
 * out of JavaScript's normalization, which otherwise gives the same result.
 */

import { lowercaseChar } from './unicode.js';
import type { Ranges } from './unicode-exceptions.js';
import { EXTRA_COMBINING_MARK, NOT_COMBINING_MARK, UNKNOWN_TO_NORMALIZATION } from './unicode-form-exceptions.js';

export type NormalForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

function rangesClass(ranges: Ranges): string {
  const hex = (cp: number) => `\\u{${cp.toString(16)}}`;
  return ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('');
}

const UNKNOWN = new RegExp(`[${rangesClass(UNKNOWN_TO_NORMALIZATION)}]`, 'u');
const UNKNOWN_SPLIT = new RegExp(`([${rangesClass(UNKNOWN_TO_NORMALIZATION)}])`, 'u');
/** General category Mark, as the crate's `is_combining_mark` sees it. */
const COMBINING_MARKS = new RegExp(`(?![${rangesClass(NOT_COMBINING_MARK)}])\\p{M}|[${rangesClass(EXTRA_COMBINING_MARK)}]`, 'gu');
const ASCII = /^\p{ASCII}*$/u;

/**
 * `text` in the normal form. A character the Rust tables do not know stays as it is and, being a starter
 * there, nothing composes or reorders across it: the text is normalized piece by piece around it.
 */
export function normalizeForm(text: string, form: NormalForm): string {
  if (ASCII.test(text)) return text;
  if (!UNKNOWN.test(text)) return text.normalize(form);
  return text
    .split(UNKNOWN_SPLIT)
    .map((piece, i) => (i % 2 === 1 ? piece : piece.normalize(form)))
    .join('');
}

/** Removes combining marks (general category M) one character at a time, without decomposing first. */
export function stripCombiningMarks(text: string): string {
  return ASCII.test(text) ? text : text.replace(COMBINING_MARKS, '');
}

/** Rust's `char::to_lowercase` on every character: no context, so a final Σ becomes σ as any other. */
export function lowercase(text: string): string {
  if (ASCII.test(text) || !text.includes('\u03a3')) return text.toLowerCase();
  let out = '';
  for (const ch of text) out += lowercaseChar(ch.codePointAt(0) as number);
  return out;
}
