/**
 * SentencePiece's precompiled normalization map (`precompiled_charsmap`, Hugging Face's `Precompiled`
 * normalizer), as the `spm_precompiled` crate reads and applies it. The blob is
 *
 *     u32 LE  n: the size in bytes of the trie
 *     n bytes  a darts-clone double-array trie over UTF-8 keys, u32 LE units
 *     rest     the replacements: UTF-8 strings, each ended by a NUL; a trie value is a byte offset here
 *
 * Hugging Face applies it grapheme cluster by grapheme cluster: a cluster of fewer than 6 UTF-8 bytes is
 * looked up whole, and the *shortest* key that is a prefix of it replaces the whole cluster (so "Ａ" + a
 * combining accent becomes "A" alone); a longer cluster, or one with no key, is looked up character by
 * character. That is what XLM-R's and ALBERT's references do, odd as it is, and what this file does.
 */
import { HealbertError } from '../errors.js';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Below U+0300 no character joins a neighbour into one grapheme cluster, except CR LF. */
const SIMPLE_LIMIT = 0x300;
const CACHE_LIMIT = 100_000;

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly replacements: Uint8Array;
  private readonly byOffset = new Map<number, string>();
  /** Grapheme (or character) -> its replacement, or null when the trie has no key for it. */
  private readonly cache = new Map<string, string | null>();

  /** `blob`: the charsmap bytes; `what` names it in errors (file and field). */
  constructor(blob: Uint8Array, what: string) {
    const fail = (why: string): never => {
      throw new HealbertError('ERR_DATA', `${what}: cannot read the precompiled charsmap (${why})`);
    };
    if (blob.length < 4) fail('shorter than its header');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > blob.length) fail(`a trie of ${trieBytes} bytes in ${blob.length}`);
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    if (this.units.length === 0) fail('an empty trie');
    this.replacements = blob.subarray(4 + trieBytes);
    try {
      utf8Decoder.decode(this.replacements);
    } catch {
      fail('its replacement strings are not UTF-8');
    }
  }

  /**
   * The value of the shortest key that is a prefix of `bytes` (darts' common prefix search, first
   * result), or -1. A NUL byte ends the key, as in SentencePiece.
   */
  private shortestPrefixValue(bytes: Uint8Array): number {
    const units = this.units;
    let node = offsetOf(units[0] as number);
    for (const c of bytes) {
      if (c === 0) return -1;
      node ^= c;
      const unit = units[node];
      // The label keeps bit 31, so a unit with it set never equals a byte.
      if (unit === undefined || (unit & 0x800000ff) !== c) return -1;
      node ^= offsetOf(unit);
      if ((unit >>> 8) & 1) return ((units[node] as number) & 0x7fffffff) >>> 0;
    }
    return -1;
  }

  private replacementAt(offset: number): string {
    let text = this.byOffset.get(offset);
    if (text === undefined) {
      let end = offset;
      while (end < this.replacements.length && this.replacements[end] !== 0) end++;
      text = utf8Decoder.decode(this.replacements.subarray(offset, end));
      this.byOffset.set(offset, text);
    }
    return text;
  }

  /** The replacement of a grapheme or character, or null where the map leaves it alone. */
  transform(piece: string): string | null {
    let result = this.cache.get(piece);
    if (result === undefined) {
      const value = this.shortestPrefixValue(utf8.encode(piece));
      result = value < 0 ? null : this.replacementAt(value);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(piece, result);
    }
    return result;
  }

  normalize(text: string): string {
    let out = '';
    let start = 0;
    // Cut the text where a grapheme boundary is certain (between two characters below U+0300, other than
    // CR LF); each piece of one character is its own cluster, longer pieces go through the segmenter.
    for (let i = 1; i <= text.length; i++) {
      if (i < text.length) {
        const prev = text.charCodeAt(i - 1);
        const next = text.charCodeAt(i);
        if (prev >= SIMPLE_LIMIT || next >= SIMPLE_LIMIT || (prev === 0x0d && next === 0x0a)) continue;
      }
      out += i - start === 1 ? (this.transform(text[start] as string) ?? text[start]) : this.normalizeClusters(text.slice(start, i));
      start = i;
    }
    return out;
  }

  private normalizeClusters(text: string): string {
    let out = '';
    for (const { segment } of segmenter.segment(text)) {
      if (utf8Length(segment) < 6) {
        const whole = this.transform(segment);
        if (whole !== null) {
          out += whole;
          continue;
        }
      }
      for (const ch of segment) out += this.transform(ch) ?? ch;
    }
    return out;
  }
}

/** darts-clone's offset field: 22 bits, shifted left by 8 more when bit 9 is set. */
function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & 0x200) >>> 6);
}

function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
