/** Free-form input for `healbert tokenize --input`: JSON lines with "text", optional "text_pair" and numeric "label". */
import { HealbertError } from '../errors.js';
import type { Example, LoadOptions, SkippedRow } from './examples.js';
import { readLines } from './lines.js';

export async function readTextJsonl(path: string, options: LoadOptions = {}): Promise<{ examples: Example[]; skipped: SkippedRow[] }> {
  const examples: Example[] = [];
  const skipped: SkippedRow[] = [];
  const malformed = (line: number, reason: string) => {
    if (options.onMalformed === 'skip') skipped.push({ file: path, line, reason });
    else throw new HealbertError('ERR_DATA', `${path}:${line}: ${reason}`);
  };
  for await (const [line, text] of readLines(path)) {
    if (text.trim() === '') {
      skipped.push({ file: path, line, reason: 'blank line' });
      continue;
    }
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(text);
    } catch (error) {
      malformed(line, `invalid JSON: ${(error as Error).message}`);
      continue;
    }
    if (typeof value !== 'object' || value === null || typeof value.text !== 'string') {
      malformed(line, 'expected an object with a string "text"');
      continue;
    }
    if (value.text_pair !== undefined && value.text_pair !== null && typeof value.text_pair !== 'string') {
      malformed(line, '"text_pair" must be a string');
      continue;
    }
    if (value.label !== undefined && value.label !== null && typeof value.label !== 'number') {
      malformed(line, '"label" must be a number');
      continue;
    }
    const example: Example = { text: value.text };
    if (typeof value.text_pair === 'string') example.textPair = value.text_pair;
    if (typeof value.label === 'number') example.label = value.label;
    examples.push(example);
  }
  return { examples, skipped };
}
