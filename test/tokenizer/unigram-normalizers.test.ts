/**
 * The normalizers and pre-tokenizers of Unigram pipelines against Hugging Face's (the `tokenizers` npm
 * package, the Rust code transformers runs), one by one: the precompiled charsmap and the Unicode forms on
 * every Basic Multilingual Plane code point and every listed exception, the rest on the edge cases.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { HealbertError } from '../../src/errors.js';
import { loadTokenizerSpec } from '../../src/tokenizer/load.js';
import { compileNormalizers, type NormalizerStep } from '../../src/tokenizer/normalizers.js';
import { onigurumaToRegExp } from '../../src/tokenizer/oniguruma.js';
import { type PreTokenizerStep, preTokenize } from '../../src/tokenizer/pre-tokenizers.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { EXTRA_COMBINING_MARK, NOT_COMBINING_MARK, UNKNOWN_TO_NORMALIZATION } from '../../src/tokenizer/unicode-form-exceptions.js';
import { loadHf } from './helpers.js';
import { unigramBundle, unigramFixture, unigramInputs } from './unigram-fixtures.js';

const hf = await loadHf();
const maybe = hf ? test : test.skip;
type Hf = NonNullable<typeof hf>;

function codePoints(): number[] {
  const cps: number[] = [];
  for (let cp = 0; cp < 0x10000; cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
  for (const ranges of [UNKNOWN_TO_NORMALIZATION, NOT_COMBINING_MARK, EXTRA_COMBINING_MARK]) {
    for (const [start, end] of ranges) for (let cp = start; cp <= end; cp++) if (cp >= 0x10000) cps.push(cp);
  }
  return cps;
}

/** Each character inside a word, alone, before marks of two combining classes, and after a decomposed é. */
const probes = (ch: string) => [`a${ch}b`, ch, `${ch}\u0316\u0301`, `e\u0301${ch}`];

const texts = () => unigramInputs().flatMap((x) => [x.text, x.text_pair ?? '']);

function differing(reference: { normalizeString(s: string): string }, mine: (s: string) => string, inputs: string[]): string[] {
  return inputs.filter((s) => reference.normalizeString(s) !== mine(s)).map((s) => JSON.stringify(s));
}

maybe('Precompiled (nmt_nfkc) equals Hugging Face on every BMP code point, grapheme clusters and the edge cases', (t) => {
  const { charsmap } = unigramBundle();
  const reference = (hf as Hf).precompiled([...Buffer.from(charsmap, 'base64')]);
  const mine = compileNormalizers([{ type: 'Precompiled', charsmap }], 'test');
  const clusters = [
    'Ａ\u0301',
    'e\u0301',
    'ｅ\u0301x',
    '\r\n',
    'a\r\nb',
    '👩‍👩‍👧‍👦',
    '🏳️‍🌈',
    'क्ष',
    '\u1100\u1161\u11a8',
    'a\u0301\u0302\u0303',
  ];
  const inputs = [...codePoints().flatMap((cp) => probes(String.fromCodePoint(cp))), ...clusters, ...texts()];
  t.deepEqual(differing(reference, mine, inputs).slice(0, 20), []);
});

maybe('NFC, NFD, NFKC, NFKD, StripAccents and Lowercase equal Hugging Face on every BMP code point and listed exception', (t) => {
  const h = hf as Hf;
  const inputs = [...codePoints().flatMap((cp) => probes(String.fromCodePoint(cp))), ...texts()];
  const cases: [NormalizerStep, { normalizeString(s: string): string }][] = [
    [{ type: 'NFC' }, h.nfcNormalizer()],
    [{ type: 'NFD' }, h.nfdNormalizer()],
    [{ type: 'NFKC' }, h.nfkcNormalizer()],
    [{ type: 'NFKD' }, h.nfkdNormalizer()],
    [{ type: 'StripAccents' }, h.stripAccentsNormalizer()],
    [{ type: 'Lowercase' }, h.lowercase()],
  ];
  for (const [step, reference] of cases) {
    t.deepEqual(differing(reference, compileNormalizers([step], 'test'), inputs).slice(0, 20), [], step.type);
  }
});

maybe('Strip, Prepend, Replace (string) and a Sequence equal Hugging Face on the edge cases', (t) => {
  const h = hf as Hf;
  const cases: [NormalizerStep[], { normalizeString(s: string): string }][] = [
    [[{ type: 'Strip', left: true, right: false }], h.stripNormalizer(true, false)],
    [[{ type: 'Strip', left: false, right: true }], h.stripNormalizer(false, true)],
    [[{ type: 'Strip', left: true, right: true }], h.stripNormalizer(true, true)],
    [[{ type: 'Prepend', prepend: '\u2581' }], h.prependNormalizer('\u2581')],
    [[{ type: 'Replace', pattern: "''", regex: false, content: '"' }], h.replace("''", '"')],
    [[{ type: 'Replace', pattern: ' ', regex: false, content: '\u2581' }], h.replace(' ', '\u2581')],
    [[{ type: 'Replace', pattern: 'a', regex: false, content: '$&$1' }], h.replace('a', '$&$1')],
    [
      [{ type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' }, { type: 'Replace', pattern: '``', regex: false, content: '"' }],
      h.sequenceNormalizer([h.nfkdNormalizer(), h.stripAccentsNormalizer(), h.lowercase(), h.replace('``', '"')]),
    ],
  ];
  for (const [steps, reference] of cases) {
    t.deepEqual(differing(reference, compileNormalizers(steps, 'test'), texts()), [], JSON.stringify(steps));
  }
});

// Hugging Face's Oniguruma patterns, checked through whole tokenizers (the npm package builds Replace from
// strings only): the generic fixture's byte-fallback vocabulary shows any difference in the normalized text.
maybe('Replace with Oniguruma regular expressions equals Hugging Face on the edge cases', async (t) => {
  const dir = unigramFixture('generic-byte-fallback');
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  const base = await loadTokenizerSpec(dir);
  const patterns = [
    '\\s{2,}|[\\n\\r\\t]',
    ' {2,}',
    '\\s+',
    '\\S+',
    '\\d',
    '[^\\d\\s]',
    '.',
    '^a|b$',
    '\\p{L}+',
    '(?:ab)+',
    '[\\s\\d]x?',
    '\\h',
  ];
  for (const pattern of patterns) {
    const normalizer = { type: 'Replace', pattern: { Regex: pattern }, content: '#' };
    const reference = (hf as Hf).Tokenizer.fromString(JSON.stringify({ ...json, normalizer }));
    const mine = new Tokenizer({ ...base, normalizers: [{ type: 'Replace', pattern, regex: true, content: '#' }] });
    const encodings = await reference.encodeBatch(texts(), { addSpecialTokens: false });
    const bad = texts().filter((s, i) => (encodings[i] as { getIds(): number[] }).getIds().join(' ') !== mine.tokenize(s).join(' '));
    t.deepEqual(
      bad.slice(0, 5).map((s) => JSON.stringify(s)),
      [],
      pattern,
    );
  }
});

test('Oniguruma patterns healbert cannot say the same way in JavaScript are refused', (t) => {
  for (const pattern of [
    'a++',
    'a*+',
    '(?>a)',
    '(?i)a',
    '(?<name>a)',
    '[\\S]',
    'a{2}+',
    '\\G',
    '\\w+',
    '[^\\w]',
    '$',
    'a*',
    '[[a]]',
    '[a&&b]',
    '(a',
  ]) {
    const error = t.throws(() => onigurumaToRegExp(pattern, 'tokenizer.json: normalizer'), { instanceOf: HealbertError }, pattern);
    t.is((error as HealbertError).code, 'ERR_DATA', pattern);
  }
  // The sets that differ between the engines are spelled out.
  t.true(onigurumaToRegExp('^\\s$', 'x').test('\u0085'));
  t.false(onigurumaToRegExp('^\\s$', 'x').test('\ufeff'));
  t.true(onigurumaToRegExp('.', 'x').test('\r'));
  t.false(onigurumaToRegExp('^.$', 'x').test('\n'));
});

maybe('WhitespaceSplit, Metaspace (every scheme, split or not), Punctuation (every behaviour) and a Sequence equal Hugging Face', (t) => {
  const h = hf as Hf;
  const cases: [PreTokenizerStep[], { preTokenizeString(s: string): [string, [number, number]][] }][] = [
    [[{ type: 'WhitespaceSplit' }], h.whitespaceSplitPreTokenizer()],
    ...(['always', 'first', 'never'] as const).flatMap((scheme) =>
      [true, false].map((split): [PreTokenizerStep[], ReturnType<Hf['metaspacePreTokenizer']>] => [
        [{ type: 'Metaspace', replacement: '\u2581', prependScheme: scheme, split }],
        h.metaspacePreTokenizer('\u2581', scheme as never, split as never),
      ]),
    ),
    ...(['removed', 'isolated', 'merged_with_previous', 'merged_with_next', 'contiguous'] as const).map(
      (behavior): [PreTokenizerStep[], ReturnType<Hf['punctuationPreTokenizer']>] => [
        [{ type: 'Punctuation', behavior }],
        h.punctuationPreTokenizer(behavior.replace(/_(.)/g, (_, c: string) => c.toUpperCase())),
      ],
    ),
    [
      [
        { type: 'Punctuation', behavior: 'isolated' },
        { type: 'WhitespaceSplit' },
        { type: 'Metaspace', replacement: '\u2581', prependScheme: 'first', split: true },
      ],
      h.sequencePreTokenizer([
        h.punctuationPreTokenizer('isolated'),
        h.whitespaceSplitPreTokenizer(),
        h.metaspacePreTokenizer('\u2581', 'first' as never, true as never),
      ]),
    ],
  ];
  const inputs = [...texts(), '!!a..b', '\u2581\u2581a', 'a\u2581', '¿qué? «x»', '...'];
  for (const [steps, reference] of cases) {
    const bad = inputs.filter((s) => {
      const expected = reference.preTokenizeString(s).map(([piece]) => piece);
      const actual = preTokenize(steps, { text: s, atStart: true }).map((p) => p.text);
      return expected.join('\u0000') !== actual.join('\u0000');
    });
    t.deepEqual(
      bad.slice(0, 5).map((s) => JSON.stringify(s)),
      [],
      JSON.stringify(steps),
    );
  }
});
