/**
 * Added tokens (special tokens such as [CLS] or <mask>, and any user-added ones) are matched in the raw
 * text before the model runs, as Hugging Face's `AddedVocabulary` does: leftmost-longest matches, with
 * optional absorption of whitespace on the left (`lstrip`) or right (`rstrip`), and `singleWord` tokens
 * only where they are not part of a longer word.
 */
import { isRustWhitespace } from './unicode.js';

/** A token the tokenizer matches in the text before splitting it (special tokens such as `[MASK]`). */
export interface AddedToken {
  content: string;
  id: number;
  special: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
  normalized: boolean;
}

/** A piece of the input: plain text for the model, or one added token. */
export type Segment = { text: string } | { id: number };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

function isWhitespaceAt(text: string, index: number): boolean {
  const cp = text.codePointAt(index);
  return cp !== undefined && isRustWhitespace(cp);
}

export class AddedTokenMatcher {
  private readonly pattern: RegExp | undefined;
  private readonly byContent: Map<string, AddedToken>;

  constructor(readonly tokens: readonly AddedToken[]) {
    this.byContent = new Map(tokens.filter((t) => t.content !== '').map((t) => [t.content, t]));
    // Longest first: at the leftmost match position, the alternation then picks the longest token.
    const contents = [...this.byContent.keys()].sort((a, b) => b.length - a.length);
    this.pattern = contents.length > 0 ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  /** Splits text into plain segments and added tokens. Empty plain segments are dropped. */
  split(text: string): Segment[] {
    if (this.pattern === undefined) return [{ text }];
    const segments: Segment[] = [];
    let cursor = 0;
    this.pattern.lastIndex = 0;
    for (let m = this.pattern.exec(text); m !== null; m = this.pattern.exec(text)) {
      const token = this.byContent.get(m[0]) as AddedToken;
      let start = m.index;
      let end = start + m[0].length;
      if (token.singleWord && ((start > 0 && isWordChar(text, start - 1)) || (end < text.length && isWordChar(text, end)))) {
        this.pattern.lastIndex = start + 1;
        continue;
      }
      if (token.lstrip) while (start > cursor && isWhitespaceAt(text, start - 1)) start--;
      if (token.rstrip) while (end < text.length && isWhitespaceAt(text, end)) end++;
      if (start > cursor) segments.push({ text: text.slice(cursor, start) });
      segments.push({ id: token.id });
      cursor = end;
      this.pattern.lastIndex = end;
    }
    if (cursor < text.length) segments.push({ text: text.slice(cursor) });
    return segments;
  }

  /** True when the text contains no added token at all (the fast path). */
  none(text: string): boolean {
    if (this.pattern === undefined) return true;
    this.pattern.lastIndex = 0;
    return !this.pattern.test(text);
  }
}

function isWordChar(text: string, index: number): boolean {
  return WORD_CHAR.test(text[index] as string);
}
