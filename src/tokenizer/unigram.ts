/**
 * The Unigram model (SentencePiece's, as Hugging Face's `Unigram` runs it): each word is split into the
 * pieces whose scores (log probabilities) sum highest, by Viterbi over the word's characters. A character
 * no piece covers on its own becomes an unknown node scored (lowest piece score - 10); runs of unknown
 * nodes are fused into one token, which becomes its UTF-8 bytes as `<0xXX>` pieces with byte fallback
 * (when all of them exist), else the unknown id. Ties go to the path found first: the earliest start, as
 * Rust compares with a strict `>` while it walks the starts in order.
 */
import { HealbertError } from '../errors.js';

export interface UnigramOptions {
  /** The unknown token's id, or null for none (an unknown character is then an error, as in Rust). */
  unkId: number | null;
  byteFallback: boolean;
}

const UNK_PENALTY = 10;
const CACHE_LIMIT = 200_000;
const utf8 = new TextEncoder();

export class Unigram {
  /** Piece -> id; a piece listed twice keeps its last id, as Rust's map does. */
  private readonly ids = new Map<string, number>();
  private readonly scores: Float64Array;
  /** First UTF-16 unit -> the longest piece (in units) that starts with it: no match can be longer. */
  private readonly longest = new Map<number, number>();
  private readonly unkScore: number;
  private readonly cache = new Map<string, number[]>();

  constructor(
    pieces: readonly (readonly [piece: string, score: number])[],
    readonly options: UnigramOptions,
  ) {
    if (pieces.length === 0) throw new HealbertError('ERR_DATA', 'Unigram: the vocabulary is empty');
    const { unkId } = options;
    if (unkId !== null && (!Number.isInteger(unkId) || unkId < 0 || unkId >= pieces.length)) {
      throw new HealbertError('ERR_DATA', `Unigram: unk_id ${unkId} is not an id of the vocabulary (0 to ${pieces.length - 1})`);
    }
    this.scores = new Float64Array(pieces.length);
    let min = Number.POSITIVE_INFINITY;
    pieces.forEach(([piece, score], id) => {
      this.ids.set(piece, id);
      this.scores[id] = score;
      if (score < min) min = score;
      if (piece === '') return;
      const first = piece.charCodeAt(0);
      if ((this.longest.get(first) ?? 0) < piece.length) this.longest.set(first, piece.length);
    });
    this.unkScore = min - UNK_PENALTY;
  }

  /** Appends the ids of one word (a pre-token) to `out`. */
  tokenize(word: string, out: number[]): void {
    if (word === '') return;
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.encode(word);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, ids);
    }
    for (const id of ids) out.push(id);
  }

  private encode(word: string): number[] {
    const n = word.length;
    // Best path ending at each UTF-16 index: its score, where its last token starts, and that token's id.
    const best = new Float64Array(n + 1);
    const from = new Int32Array(n + 1).fill(-1);
    const tokenIds = new Int32Array(n + 1);
    const unkId = this.options.unkId;
    for (let start = 0; start < n; ) {
      const c = word.charCodeAt(start);
      const width = c >= 0xd800 && c <= 0xdbff && start + 1 < n ? 2 : 1;
      const base = best[start] as number;
      let single = false;
      const limit = Math.min(n, start + (this.longest.get(c) ?? 0));
      for (let end = start + 1; end <= limit; end++) {
        const id = this.ids.get(word.slice(start, end));
        if (id === undefined) continue;
        const score = base + (this.scores[id] as number);
        if ((from[end] as number) < 0 || score > (best[end] as number)) {
          best[end] = score;
          from[end] = start;
          tokenIds[end] = id;
        }
        if (end - start === width) single = true;
      }
      const end = start + width;
      if (!single && ((from[end] as number) < 0 || base + this.unkScore > (best[end] as number))) {
        if (unkId === null) {
          throw new HealbertError(
            'ERR_DATA',
            `Unigram: ${JSON.stringify(word)} has a character no piece covers and the model has no unk_id`,
          );
        }
        best[end] = base + this.unkScore;
        from[end] = start;
        tokenIds[end] = unkId;
      }
      start = end;
    }
    // Back from the end; adjacent unknown tokens become one.
    const tokens: string[] = [];
    let fused = '';
    for (let end = n; end > 0; ) {
      const start = from[end] as number;
      const piece = word.slice(start, end);
      if (unkId !== null && tokenIds[end] === unkId) fused = piece + fused;
      else {
        if (fused !== '') tokens.push(fused);
        fused = '';
        tokens.push(piece);
      }
      end = start;
    }
    if (fused !== '') tokens.push(fused);
    tokens.reverse();
    const ids: number[] = [];
    for (const token of tokens) this.tokenId(token, ids);
    return ids;
  }

  private tokenId(token: string, out: number[]): void {
    const id = this.ids.get(token);
    if (id !== undefined) {
      out.push(id);
      return;
    }
    if (this.options.byteFallback) {
      const bytes: number[] = [];
      for (const byte of utf8.encode(token)) {
        const byteId = this.ids.get(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
        if (byteId === undefined) break;
        bytes.push(byteId);
      }
      if (bytes.length === utf8.encode(token).length) {
        for (const b of bytes) out.push(b);
        return;
      }
    }
    // A token made of unknown nodes exists only where unk_id does.
    out.push(this.options.unkId as number);
  }
}
