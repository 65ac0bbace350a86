/**
 * Regular expressions of tokenizer.json (`{"Regex": ...}` patterns) are Oniguruma's, as Hugging Face's
 * Rust library compiles them; this translates one into a JavaScript RegExp (`u` flag) with the same
 * matches. The escapes whose sets differ are spelled out (measured against the Rust library on every code
 * point): `\s` is the White_Space set (JavaScript's adds U+FEFF and lacks U+0085), `\d` is \p{Nd}, `\h` a
 * hexadecimal digit, `.` anything but \n (JavaScript also stops at \r, U+2028 and U+2029), and `^`/`$` are
 * line anchors at \n only. `\d` and `\p{...}` differ only on characters assigned since Oniguruma's tables
 * (as the other Unicode exceptions, see ./unicode-forms.ts); `\w` differs on older ones (² ½ Ⅻ ...) and is
 * refused, as is what JavaScript cannot say the same way (possessive quantifiers, atomic groups, inline
 * options, \G, \K, ...), with an error naming the pattern.
 */
import { HealbertError } from '../errors.js';

/** Oniguruma's \s (Unicode White_Space), as a character-class body. */
export const ONIG_SPACE = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const HEX = '0-9A-Fa-f';

/** Escapes that mean a set: their body inside a class, and whether they are negated. */
const SETS: Record<string, [string, boolean]> = {
  s: [ONIG_SPACE, false],
  S: [ONIG_SPACE, true],
  d: ['\\p{Nd}', false],
  D: ['\\p{Nd}', true],
  h: [HEX, false],
  H: [HEX, true],
};

/** Escapes that mean one character, or an assertion, the same in both engines. */
const SAME = new Set(['t', 'n', 'r', 'f', 'v', 'a', 'e', 'b', 'B', '0']);

export function onigurumaToRegExp(pattern: string, what: string, flags = 'gu'): RegExp {
  const fail = (why: string): never => {
    throw new HealbertError('ERR_DATA', `${what}: the regular expression ${JSON.stringify(pattern)} ${why}`);
  };
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const e = pattern[++i];
      if (e === undefined) return fail('ends with a lone backslash');
      const set = SETS[e];
      if (set) {
        const [body, negated] = set;
        if (inClass && negated) fail(`uses \\${e} inside a character class, which healbert cannot translate`);
        out += inClass ? body : `[${negated ? '^' : ''}${body}]`;
      } else if (e === 'p' || e === 'P') {
        const m = /^\{\^?[A-Za-z_=]+\}/.exec(pattern.slice(i + 1));
        if (!m) return fail('has a \\p escape healbert cannot read');
        let name = m[0];
        let negate = e === 'P';
        if (name.startsWith('{^')) {
          negate = !negate;
          name = `{${name.slice(2)}`;
        }
        out += `\\${negate ? 'P' : 'p'}${name}`;
        i += m[0].length;
      } else if (e === 'x' || e === 'u') {
        const m =
          e === 'x' ? /^(\{[0-9A-Fa-f]{1,8}\}|[0-9A-Fa-f]{2})/.exec(pattern.slice(i + 1)) : /^[0-9A-Fa-f]{4}/.exec(pattern.slice(i + 1));
        if (!m) return fail(`has a \\${e} escape healbert cannot read`);
        out += m[0].startsWith('{') ? `\\u${m[0]}` : `\\u{${m[0]}}`;
        i += m[0].length;
      } else if (e === 'A' && !inClass) out += '^';
      else if (e === 'z' && !inClass) out += '$';
      else if (e === 'Z' && !inClass) out += '(?=\\n?$)';
      else if (e === 'w' || e === 'W') fail(`uses \\${e}, whose Unicode set in Oniguruma healbert does not reproduce`);
      else if (SAME.has(e) || /[^A-Za-z0-9]/.test(e)) out += `\\${e}`;
      else fail(`uses \\${e}, which healbert cannot translate`);
      continue;
    }
    if (inClass) {
      if (c === '[') fail('nests character classes, which healbert cannot translate');
      if (c === '&' && pattern[i + 1] === '&') fail('intersects character classes, which healbert cannot translate');
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (pattern[i + 1] === '^') out += pattern[++i];
      // A ']' first in a class is a literal in Oniguruma.
      if (pattern[i + 1] === ']') {
        out += '\\]';
        i++;
      }
    } else if (c === '.') out += '[^\\n]';
    else if (c === '^') out += '(?<![^\\n])';
    else if (c === '$') out += '(?![^\\n])';
    else if (c === '(' && pattern[i + 1] === '?') {
      const kind = pattern[i + 2];
      if (kind !== ':' && kind !== '=' && kind !== '!' && !(kind === '<' && (pattern[i + 3] === '=' || pattern[i + 3] === '!'))) {
        fail('uses a group kind (atomic, named or with inline options) healbert cannot translate');
      }
      out += c;
    } else if ((c === '+' || c === '?' || c === '*') && pattern[i + 1] === '+') {
      fail('uses a possessive quantifier, which healbert cannot translate');
    } else if (c === '}' && (pattern[i + 1] === '+' || pattern[i + 1] === '*')) {
      fail('repeats a repetition, which healbert cannot translate');
    } else out += c;
  }
  if (inClass) fail('has an unclosed character class');
  let regex: RegExp;
  try {
    regex = new RegExp(out, flags);
  } catch (error) {
    return fail(`is not valid: ${(error as Error).message}`);
  }
  // Where empty matches fall (between which bytes, after which match) differs between the engines.
  if (new RegExp(out, 'u').test('')) fail('can match nothing at all, and healbert does not reproduce where Oniguruma finds empty matches');
  return regex;
}
