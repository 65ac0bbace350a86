/**
 * Character classes exactly as Hugging Face tokenizers (Rust) sees them. The BERT normalizer and
 * pre-tokenizer use the `unicode_categories` crate, whose tables are from an older Unicode version than
 * V8's (Node 20), and Rust's own `char::is_whitespace`; some code points therefore differ from what
 * JavaScript's `\p{...}` classes say. Those are listed in ./unicode-exceptions.ts, found by comparing every
 * code point against the Hugging Face library. A Node with a newer Unicode than Node 20's can disagree on
 * characters assigned since; test/tokenizer/unicode.test.ts would show them.
 */
import {
  EXTRA_MARK_NONSPACING,
  EXTRA_PUNCTUATION,
  inRanges,
  NOT_MARK_NONSPACING,
  NOT_OTHER,
  NOT_PUNCTUATION,
} from './unicode-exceptions.js';

/** Cc, Cf, Co or Cs (not Cn): removed by the BERT normalizer's clean_text, except \t \n \r. */
export const OTHER = 1;
/** Rust `char::is_whitespace` (the Unicode White_Space property), plus \t \n \r. */
export const WHITESPACE = 2;
/** ASCII punctuation (Rust `is_ascii_punctuation`, which includes $ + < = > ^ ` | ~) or Unicode P*. */
export const PUNCTUATION = 4;
/** The CJK ideograph blocks that BERT surrounds with spaces. */
export const CHINESE = 8;
/** Mn (non-spacing marks): removed after NFD when accents are stripped. */
export const MARK_NONSPACING = 16;
const KNOWN = 128;

const OTHER_RE = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const PUNCT_RE = /^\p{P}$/u;
const MN_RE = /^\p{Mn}$/u;

/** The White_Space property (Rust's `char::is_whitespace`); JavaScript's `\s` differs (U+0085, U+FEFF). */
export function isRustWhitespace(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    cp === 0x20 ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

function isChinese(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function isAsciiPunctuation(cp: number): boolean {
  return (cp >= 0x21 && cp <= 0x2f) || (cp >= 0x3a && cp <= 0x40) || (cp >= 0x5b && cp <= 0x60) || (cp >= 0x7b && cp <= 0x7e);
}

function computeFlags(cp: number): number {
  // Lone surrogates cannot reach Rust (strings cross as UTF-8, where they become U+FFFD); callers map them.
  const ch = String.fromCodePoint(cp);
  let flags = KNOWN;
  if (OTHER_RE.test(ch) && !inRanges(NOT_OTHER, cp)) flags |= OTHER;
  if (isRustWhitespace(cp)) flags |= WHITESPACE;
  if (isAsciiPunctuation(cp) || (PUNCT_RE.test(ch) && !inRanges(NOT_PUNCTUATION, cp)) || inRanges(EXTRA_PUNCTUATION, cp)) {
    flags |= PUNCTUATION;
  }
  if (isChinese(cp)) flags |= CHINESE;
  if ((MN_RE.test(ch) && !inRanges(NOT_MARK_NONSPACING, cp)) || inRanges(EXTRA_MARK_NONSPACING, cp)) flags |= MARK_NONSPACING;
  return flags;
}

// Filled lazily: a regex test per code point the first time it is seen, a byte lookup afterwards.
const table = new Uint8Array(0x110000);

export function charFlags(cp: number): number {
  const cached = table[cp] as number;
  if (cached !== 0) return cached;
  const flags = computeFlags(cp);
  table[cp] = flags;
  return flags;
}

/** Rust's `char::to_lowercase` for one code point: full mappings, but no context (no final sigma). */
export function lowercaseChar(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp);
  return String.fromCodePoint(cp).toLowerCase();
}
