/**
 * The `normalizer` and `pre_tokenizer` fields of a tokenizer.json as healbert's steps (./normalizers.ts,
 * ./pre-tokenizers.ts), read as Hugging Face's Rust library deserializes them (defaults, legacy fields,
 * the combinations it refuses). An unknown type is an error that names the file, the field and what
 * healbert supports.
 */
import { HealbertError } from '../errors.js';
import { NORMALIZER_TYPES, type NormalizerStep } from './normalizers.js';
import { PRE_TOKENIZER_TYPES, type PrependScheme, type PreTokenizerStep, type SplitBehavior } from './pre-tokenizers.js';

type Json = Record<string, unknown>;

/** Reads fields of one JSON object, with errors that name the file and the field's path. */
class Fields {
  constructor(
    readonly json: Json,
    readonly path: string,
    readonly field: string,
  ) {}

  fail(why: string): never {
    throw new HealbertError('ERR_DATA', `${this.path}: ${this.field}: ${why}`);
  }

  string(key: string, fallback?: string): string {
    const value = this.json[key] ?? fallback;
    if (typeof value !== 'string') this.fail(`"${key}" must be a string, got ${JSON.stringify(value)}`);
    return value as string;
  }

  bool(key: string, fallback?: boolean): boolean {
    const value = this.json[key] ?? fallback;
    if (typeof value !== 'boolean') this.fail(`"${key}" must be true or false, got ${JSON.stringify(value)}`);
    return value as boolean;
  }

  list(key: string): Fields[] {
    const value = this.json[key];
    if (!Array.isArray(value)) return this.fail(`"${key}" must be a list`);
    return value.map((item, i) => {
      const field = `${this.field}.${key}[${i}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        throw new HealbertError('ERR_DATA', `${this.path}: ${field}: not a JSON object`);
      return new Fields(item as Json, this.path, field);
    });
  }
}

function unsupported(f: Fields, kind: string, supported: readonly string[]): never {
  return f.fail(`unsupported ${kind} '${String(f.json.type)}' (healbert supports ${supported.join(', ')})`);
}

function normalizerSteps(f: Fields, out: NormalizerStep[]): void {
  const type = f.json.type;
  switch (type) {
    case 'Sequence':
      for (const item of f.list('normalizers')) normalizerSteps(item, out);
      return;
    case 'Precompiled': {
      const charsmap = f.string('precompiled_charsmap');
      if (charsmap === '') f.fail('an empty "precompiled_charsmap"');
      out.push({ type, charsmap });
      return;
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
    case 'StripAccents':
    case 'Lowercase':
      out.push({ type });
      return;
    case 'Replace': {
      const pattern = f.json.pattern as Json | undefined;
      const isString = typeof pattern?.String === 'string';
      if (!isString && typeof pattern?.Regex !== 'string') f.fail('"pattern" must be {"String": ...} or {"Regex": ...}');
      const text = (isString ? pattern?.String : pattern?.Regex) as string;
      if (text === '') f.fail('an empty "pattern"');
      out.push({ type, pattern: text, regex: !isString, content: f.string('content') });
      return;
    }
    case 'Strip':
      out.push({ type, left: f.bool('strip_left'), right: f.bool('strip_right') });
      return;
    case 'Prepend':
      out.push({ type, prepend: f.string('prepend') });
      return;
    default:
      unsupported(f, 'normalizer', NORMALIZER_TYPES);
  }
}

/** The steps of a `normalizer` field (null or absent: none). */
export function parseNormalizers(json: unknown, path: string, field = 'normalizer'): NormalizerStep[] {
  if (json === null || json === undefined) return [];
  if (typeof json !== 'object' || Array.isArray(json)) throw new HealbertError('ERR_DATA', `${path}: ${field}: not a JSON object`);
  const out: NormalizerStep[] = [];
  normalizerSteps(new Fields(json as Json, path, field), out);
  return out;
}

const BEHAVIORS: Record<string, SplitBehavior> = {
  Removed: 'removed',
  Isolated: 'isolated',
  MergedWithPrevious: 'merged_with_previous',
  MergedWithNext: 'merged_with_next',
  Contiguous: 'contiguous',
};

function preTokenizerSteps(f: Fields, out: PreTokenizerStep[]): void {
  const type = f.json.type;
  switch (type) {
    case 'Sequence':
      for (const item of f.list('pretokenizers')) preTokenizerSteps(item, out);
      return;
    case 'WhitespaceSplit':
      out.push({ type });
      return;
    case 'Punctuation': {
      const name = f.string('behavior', 'Isolated');
      const behavior = BEHAVIORS[name] ?? f.fail(`unknown "behavior" '${name}' (one of ${Object.keys(BEHAVIORS).join(', ')})`);
      out.push({ type, behavior });
      return;
    }
    case 'Metaspace': {
      const replacement = f.string('replacement');
      if ([...replacement].length !== 1) f.fail(`"replacement" must be one character, got ${JSON.stringify(replacement)}`);
      const scheme = f.string('prepend_scheme', 'always');
      if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never') f.fail(`unknown "prepend_scheme" '${scheme}'`);
      // Older files have add_prefix_space instead; Hugging Face refuses one that contradicts the scheme.
      const legacy = f.json.add_prefix_space;
      if (legacy === false && scheme !== 'never')
        f.fail('"add_prefix_space": false does not match "prepend_scheme" (Hugging Face refuses it)');
      out.push({ type, replacement, prependScheme: scheme as PrependScheme, split: f.bool('split', true) });
      return;
    }
    default:
      unsupported(f, 'pre-tokenizer', PRE_TOKENIZER_TYPES);
  }
}

/** The steps of a `pre_tokenizer` field (null or absent: none). */
export function parsePreTokenizers(json: unknown, path: string, field = 'pre_tokenizer'): PreTokenizerStep[] {
  if (json === null || json === undefined) return [];
  if (typeof json !== 'object' || Array.isArray(json)) throw new HealbertError('ERR_DATA', `${path}: ${field}: not a JSON object`);
  const out: PreTokenizerStep[] = [];
  preTokenizerSteps(new Fields(json as Json, path, field), out);
  return out;
}
