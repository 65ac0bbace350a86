/**
 * Special tokens around one or two sequences (Hugging Face's `TemplateProcessing`, `BertProcessing`,
 * `RobertaProcessing`), and truncation of the sequences to fit a maximum length, exactly as the Rust
 * `truncate_encodings` does it.
 */
import { HealbertError } from '../errors.js';

/** One item of a template: special token ids, or the first/second sequence, with a segment (type) id. */
export type TemplatePiece = { special: number[]; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

/** How special tokens frame a single text and a pair (e.g. `[CLS] A [SEP] B [SEP]`), with segment ids. */
export interface Template {
  single: TemplatePiece[];
  pair: TemplatePiece[];
}

export function specialTokenCount(pieces: readonly TemplatePiece[]): number {
  let n = 0;
  for (const piece of pieces) if ('special' in piece) n += piece.special.length;
  return n;
}

/** How a pair is shortened to the maximum length, as Hugging Face's `truncation` names the strategies. */
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

/**
 * The lengths the two sequences keep so that they fit `budget` (the maximum length less the special
 * tokens). Mirrors Rust's `truncate_encodings`, including its errors for `only_*` strategies.
 */
export function truncatedLengths(n1: number, n2: number | undefined, budget: number, strategy: TruncationStrategy): [number, number] {
  const total = n1 + (n2 ?? 0);
  if (budget === 0) return [0, 0];
  if (total <= budget) return [n1, n2 ?? 0];
  const toRemove = total - budget;
  if (strategy === 'longest_first') {
    if (n2 === undefined) return [n1 - toRemove, 0];
    let short = Math.min(n1, n2);
    let long = Math.max(n1, n2);
    long = short > budget ? short : Math.max(short, budget - short);
    if (short + long > budget) {
      short = Math.floor(budget / 2);
      long = short + (budget % 2);
    }
    return n1 > n2 ? [long, short] : [short, long];
  }
  if (strategy === 'only_second' && n2 === undefined) {
    throw new HealbertError('ERR_ARGUMENT', "truncation 'only_second' needs a second sequence");
  }
  const target = strategy === 'only_first' ? n1 : (n2 as number);
  if (target <= toRemove) {
    throw new HealbertError('ERR_ARGUMENT', `truncation '${strategy}': the sequence to truncate is too short to reach the maximum length`);
  }
  return strategy === 'only_first' ? [n1 - toRemove, n2 ?? 0] : [n1, target - toRemove];
}

/** An encoded text or pair: its token ids and segment ids. */
export interface Encoding {
  inputIds: number[];
  tokenTypeIds: number[];
}

/** Applies a template to already-truncated id lists. */
export function applyTemplate(pieces: readonly TemplatePiece[], a: readonly number[], b: readonly number[] | undefined): Encoding {
  const inputIds: number[] = [];
  const tokenTypeIds: number[] = [];
  for (const piece of pieces) {
    const ids = 'special' in piece ? piece.special : piece.sequence === 'A' ? a : (b ?? []);
    for (const id of ids) {
      inputIds.push(id);
      tokenTypeIds.push(piece.typeId);
    }
  }
  return { inputIds, tokenTypeIds };
}
