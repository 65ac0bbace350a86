/**
 * The WordPiece model (Hugging Face `WordPiece`): greedy longest-match-first over each word, continuation
 * pieces carrying a prefix (`##`); a word with an unmatched remainder, or longer than
 * `maxInputCharsPerWord` code points, becomes the unknown token as a whole.
 */
import { HealbertError } from '../errors.js';

export interface WordPieceOptions {
  unkToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
}

export class WordPiece {
  private readonly starts = new Map<string, number>();
  private readonly continuations = new Map<string, number>();
  private readonly unkId: number;
  /** Longest vocabulary entry in UTF-16 units, without the prefix: no match can be longer. */
  private readonly maxPieceLength: number;

  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    readonly options: WordPieceOptions,
  ) {
    const unk = vocab.get(options.unkToken);
    if (unk === undefined)
      throw new HealbertError('ERR_DATA', `WordPiece: the unknown token '${options.unkToken}' is not in the vocabulary`);
    this.unkId = unk;
    let longest = 1;
    const prefix = options.continuingSubwordPrefix;
    for (const [token, id] of vocab) {
      this.starts.set(token, id);
      if (prefix !== '' && token.startsWith(prefix)) {
        const rest = token.slice(prefix.length);
        this.continuations.set(rest, id);
        longest = Math.max(longest, rest.length);
      }
      longest = Math.max(longest, token.length);
    }
    if (prefix === '') for (const [token, id] of vocab) this.continuations.set(token, id);
    this.maxPieceLength = longest;
  }

  /** Appends the ids of one word to `out`. */
  tokenize(word: string, out: number[]): void {
    if (word.length > this.options.maxInputCharsPerWord && countCodePoints(word) > this.options.maxInputCharsPerWord) {
      out.push(this.unkId);
      return;
    }
    const mark = out.length;
    let start = 0;
    while (start < word.length) {
      const table = start === 0 ? this.starts : this.continuations;
      let end = Math.min(word.length, start + this.maxPieceLength);
      let found = -1;
      while (end > start) {
        // Never cut a surrogate pair: Rust steps back one whole character at a time.
        const last = word.charCodeAt(end - 1);
        if (last >= 0xd800 && last <= 0xdbff && end < word.length) {
          end -= 1;
          continue;
        }
        const id = table.get(word.slice(start, end));
        if (id !== undefined) {
          found = id;
          break;
        }
        end -= 1;
      }
      if (found < 0) {
        out.length = mark;
        out.push(this.unkId);
        return;
      }
      out.push(found);
      start = end;
    }
  }
}

function countCodePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
