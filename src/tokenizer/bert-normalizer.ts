/**
 * BERT's normalizer and pre-tokenizer (Hugging Face `BertNormalizer` + `BertPreTokenizer`) over one piece
 * of text: clean control characters, space out CJK ideographs, strip accents (NFD, drop Mn), lowercase
 * code point by code point, then split on whitespace and isolate each punctuation character.
 */
import { CHINESE, charFlags, lowercaseChar, MARK_NONSPACING, OTHER, PUNCTUATION, WHITESPACE } from './unicode.js';

/** BERT's normalizer settings, as tokenizer.json or tokenizer_config.json give them. */
export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** Code points of a JS string; lone surrogates become U+FFFD, as they do when a string is sent to Rust. */
function codePointAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
  }
  return c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
}

/** The normalized text (before pre-tokenization). */
export function normalizeBert(text: string, options: BertNormalizerOptions): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const cp = codePointAt(text, i);
    i += cp > 0xffff ? 2 : 1;
    if (options.cleanText) {
      if (cp === 0 || cp === 0xfffd) continue;
      if (cp === TAB || cp === LF || cp === CR) {
        out += ' ';
        continue;
      }
      const flags = charFlags(cp);
      if (flags & OTHER) continue;
      if (flags & WHITESPACE) {
        out += ' ';
        continue;
      }
    }
    if (options.handleChineseChars && charFlags(cp) & CHINESE) out += ` ${String.fromCodePoint(cp)} `;
    else out += String.fromCodePoint(cp);
  }
  if (options.stripAccents) {
    let stripped = '';
    for (const ch of out.normalize('NFD')) {
      if (!(charFlags(ch.codePointAt(0) as number) & MARK_NONSPACING)) stripped += ch;
    }
    out = stripped;
  }
  if (options.lowercase) {
    let lowered = '';
    for (const ch of out) lowered += lowercaseChar(ch.codePointAt(0) as number);
    out = lowered;
  }
  return out;
}

/** Splits normalized text into words: whitespace removed, each punctuation character a word of its own. */
export function preTokenizeBert(normalized: string, out: string[]): void {
  let start = -1;
  for (let i = 0; i < normalized.length; ) {
    const cp = codePointAt(normalized, i);
    const width = cp > 0xffff ? 2 : 1;
    const flags = cp === 0x20 ? WHITESPACE : charFlags(cp);
    if (flags & (WHITESPACE | PUNCTUATION)) {
      if (start >= 0) out.push(normalized.slice(start, i));
      start = -1;
      if (flags & PUNCTUATION && !(flags & WHITESPACE)) out.push(normalized.slice(i, i + width));
    } else if (start < 0) {
      start = i;
    }
    i += width;
  }
  if (start >= 0) out.push(normalized.slice(start));
}

const PLAIN_ASCII = /^[\x21-\x7e]*$/;

/**
 * Normalizes and pre-tokenizes one chunk of text. A chunk of printable ASCII (the common case) takes a
 * short path with the same result.
 */
export function bertWords(chunk: string, options: BertNormalizerOptions, out: string[]): void {
  if (PLAIN_ASCII.test(chunk)) {
    preTokenizeBert(options.lowercase ? chunk.toLowerCase() : chunk, out);
    return;
  }
  preTokenizeBert(normalizeBert(chunk, options), out);
}

/**
 * True for code points that end a chunk: characters that are whitespace after normalization, so that no
 * word spans them and a chunk's words do not depend on its neighbours.
 */
export function isChunkBoundary(cp: number, cleanText: boolean): boolean {
  if (cp === 0x20 || cp === TAB || cp === LF || cp === CR) return true;
  if (cp > 0x20 && cp < 0x80) return false;
  const flags = charFlags(cp);
  return (flags & WHITESPACE) !== 0 && !(cleanText && flags & OTHER);
}
