/**
 * The normalizers of a tokenizer.json that healbert runs for any model type (Unigram, and byte-level BPE
 * where a tokenizer.json gives one): plain data in the spec, compiled here into one string function.
 * Each step is Hugging Face's normalizer of the same name; a `Sequence` is flattened into the list.
 */
import { HealbertError } from '../errors.js';
import { onigurumaToRegExp } from './oniguruma.js';
import { PrecompiledCharsmap } from './precompiled.js';
import { isRustWhitespace } from './unicode.js';
import { lowercase, normalizeForm, stripCombiningMarks } from './unicode-forms.js';

/** One normalization step of a tokenizer (Unicode forms, SentencePiece's charsmap, lowercasing, replacements, ...). */
export type NormalizerStep =
  /** SentencePiece's charsmap, base64 as in tokenizer.json. */
  | { type: 'Precompiled'; charsmap: string }
  | { type: 'NFC' }
  | { type: 'NFD' }
  | { type: 'NFKC' }
  | { type: 'NFKD' }
  | { type: 'StripAccents' }
  | { type: 'Lowercase' }
  /** Every non-overlapping match, left to right; `regex`: the pattern is Oniguruma's. */
  | { type: 'Replace'; pattern: string; regex: boolean; content: string }
  | { type: 'Strip'; left: boolean; right: boolean }
  | { type: 'Prepend'; prepend: string };

export const NORMALIZER_TYPES = [
  'Sequence',
  'Precompiled',
  'NFC',
  'NFD',
  'NFKC',
  'NFKD',
  'StripAccents',
  'Lowercase',
  'Replace',
  'Strip',
  'Prepend',
] as const;

export type Normalize = (text: string) => string;

/**
 * Normalizes and says whether the first character of the result no longer comes from the first character
 * of the input in Hugging Face's alignments: a step dropped leading characters the way it accounts for
 * removals (Strip, StripAccents, Replace with empty content). Precompiled does not count: where it drops
 * characters, the characters after them take over their alignments.
 */
export type NormalizeTracking = (text: string) => { text: string; leadingRemoved: boolean };

/** Whether a step, given `text`, drops its first character so that the next one keeps its own alignment. */
function removesLeading(step: NormalizerStep, regex: RegExp | undefined): (text: string) => boolean {
  switch (step.type) {
    case 'Strip':
      return (text) => step.left && text !== '' && isRustWhitespace(text.charCodeAt(0));
    case 'StripAccents':
      return (text) => text !== '' && stripCombiningMarks(String.fromCodePoint(text.codePointAt(0) as number)) === '';
    case 'Replace':
      if (step.content !== '') return () => false;
      if (regex === undefined) return (text) => text.startsWith(step.pattern);
      return (text) => {
        regex.lastIndex = 0;
        const m = regex.exec(text);
        return m !== null && m.index === 0 && m[0] !== '';
      };
    default:
      return () => false;
  }
}

function compileStep(step: NormalizerStep, what: string): Normalize {
  switch (step.type) {
    case 'Precompiled': {
      const charsmap = new PrecompiledCharsmap(Buffer.from(step.charsmap, 'base64'), what);
      return (text) => charsmap.normalize(text);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = step.type;
      return (text) => normalizeForm(text, form);
    }
    case 'StripAccents':
      return stripCombiningMarks;
    case 'Lowercase':
      return lowercase;
    case 'Replace': {
      const { content } = step;
      if (!step.regex) {
        const pattern = step.pattern;
        return (text) => (text.includes(pattern) ? text.split(pattern).join(content) : text);
      }
      const regex = onigurumaToRegExp(step.pattern, what);
      // A function, so that '$' in the content is literal.
      return (text) => text.replace(regex, () => content);
    }
    case 'Strip': {
      const { left, right } = step;
      return (text) => stripWhitespace(text, left, right);
    }
    case 'Prepend': {
      const { prepend } = step;
      return (text) => (text === '' ? text : prepend + text);
    }
    default:
      throw new HealbertError('ERR_INTERNAL', `unknown normalizer step ${JSON.stringify(step)}`);
  }
}

/** The steps in order, as one function; `what` names the file and field in errors. */
export function compileNormalizers(steps: readonly NormalizerStep[], what: string): Normalize {
  const fns = steps.map((step, i) => compileStep(step, `${what}[${i}]`));
  if (fns.length === 0) return (text) => text;
  if (fns.length === 1) return fns[0] as Normalize;
  return (text) => {
    for (const fn of fns) text = fn(text);
    return text;
  };
}

/** As compileNormalizers, also telling whether leading characters were removed (see NormalizeTracking). */
export function compileNormalizersTracking(steps: readonly NormalizerStep[], what: string): NormalizeTracking {
  const fns = steps.map((step, i) => compileStep(step, `${what}[${i}]`));
  const checks = steps.map((step, i) =>
    removesLeading(step, step.type === 'Replace' && step.regex ? onigurumaToRegExp(step.pattern, `${what}[${i}]`) : undefined),
  );
  return (text) => {
    let leadingRemoved = false;
    fns.forEach((fn, i) => {
      if (!leadingRemoved && (checks[i] as (t: string) => boolean)(text)) leadingRemoved = true;
      text = fn(text);
    });
    return { text, leadingRemoved };
  };
}

/** Removes White_Space (Rust's `char::is_whitespace`) from the ends asked for. */
function stripWhitespace(text: string, left: boolean, right: boolean): string {
  let start = 0;
  let end = text.length;
  if (left) while (start < end && isRustWhitespace(text.charCodeAt(start))) start++;
  if (right) while (end > start && isRustWhitespace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}
