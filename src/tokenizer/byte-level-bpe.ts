/**
 * Byte-level BPE as in GPT-2 and RoBERTa (Hugging Face `ByteLevel` pre-tokenizer + `BPE` model): split
 * text with GPT-2's pattern, map each UTF-8 byte to a printable character, then apply merges, always the
 * lowest-ranked adjacent pair first (leftmost among equals), until none applies.
 */
import { HealbertError } from '../errors.js';

/**
 * GPT-2's split pattern. `\s` is spelled out as the White_Space set that the Rust regex engine (Oniguruma)
 * uses: JavaScript's `\s` adds U+FEFF and lacks U+0085.
 */
const S = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPLIT = new RegExp(`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${S}\\p{L}\\p{N}]+|[${S}]+(?![^${S}])|[${S}]+`, 'gu');

/** GPT-2's byte -> character table: printable bytes map to themselves, the others to U+0100 onwards. */
function byteToCharTable(): string[] {
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : next++);
  }
  return table;
}

const BYTE_TO_CHAR = byteToCharTable();
const encoder = new TextEncoder();

export interface ByteLevelBpeOptions {
  /** Prepend a space to text that does not start with one (RoBERTa: false). */
  addPrefixSpace: boolean;
}

export class ByteLevelBpe {
  /** "left right" -> [rank, merged id]. */
  private readonly merges = new Map<string, [number, number]>();
  private readonly cache = new Map<string, number[]>();

  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    merges: readonly [string, string][],
    readonly options: ByteLevelBpeOptions,
  ) {
    merges.forEach(([left, right], rank) => {
      const id = vocab.get(left + right);
      if (id === undefined)
        throw new HealbertError('ERR_DATA', `BPE: merge ${rank + 1} ('${left} ${right}') makes a token missing from the vocabulary`);
      // A repeated merge keeps its last rank, as Rust's HashMap collect does.
      this.merges.set(`${left} ${right}`, [rank, id]);
    });
    for (const ch of BYTE_TO_CHAR) {
      if (!vocab.has(ch)) throw new HealbertError('ERR_DATA', `BPE: the byte-level character '${ch}' is not in the vocabulary`);
    }
  }

  /**
   * Appends the ids of a text segment (no added tokens inside) to `out`, stopping after a word that brings
   * the count to `limit` or more; true when it stopped so.
   */
  encode(text: string, out: number[], limit = Number.POSITIVE_INFINITY): boolean {
    const input = this.options.addPrefixSpace && text !== '' && !text.startsWith(' ') ? ` ${text}` : text;
    for (const match of input.matchAll(SPLIT)) {
      this.encodeWord(match[0], out);
      if (out.length >= limit) return true;
    }
    return false;
  }

  private encodeWord(word: string, out: number[]): void {
    const cached = this.cache.get(word);
    if (cached !== undefined) {
      for (const id of cached) out.push(id);
      return;
    }
    const ids = this.bpe(word);
    if (this.cache.size > 200_000) this.cache.clear();
    this.cache.set(word, ids);
    for (const id of ids) out.push(id);
  }

  private bpe(word: string): number[] {
    // Lone surrogates reach Rust as U+FFFD; TextEncoder does the same.
    const symbols: string[] = [];
    for (const byte of encoder.encode(word)) symbols.push(BYTE_TO_CHAR[byte] as string);
    const ids: number[] = symbols.map((s) => this.vocab.get(s) as number);
    for (;;) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      let bestId = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const merge = this.merges.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (merge !== undefined && merge[0] < bestRank) {
          best = i;
          bestRank = merge[0];
          bestId = merge[1];
        }
      }
      if (best < 0) return ids;
      symbols.splice(best, 2, (symbols[best] as string) + (symbols[best + 1] as string));
      ids.splice(best, 2, bestId);
    }
  }
}
