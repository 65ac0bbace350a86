/**
 * GLUE TSV files read as the official loaders read them: tab-separated with no quoting (quote characters
 * are text), a header row except in CoLA's train/dev, UTF-8 with MRPC's byte order mark dropped, the last
 * line with or without a newline. Every row must have the header's field count; labels must be ones the
 * task knows. A malformed row is an ERR_DATA error naming file and line, or, with `onMalformed: 'skip'`,
 * a counted and reported skip; blank lines are always reported.
 */
import { HealbertError } from '../errors.js';
import type { Example, LoadOptions, SkippedRow } from './examples.js';
import { readLines } from './lines.js';
import type { GlueTask, TsvSplit } from './tasks.js';
import type { Column } from './text-files.js';

/** A GLUE TSV file's examples and the rows skipped (with why). */
export interface GlueFileResult {
  examples: Example[];
  skipped: SkippedRow[];
}

function columnIndex(column: Column, names: Map<string, number> | undefined, path: string): number {
  if (typeof column === 'number') return column;
  const index = names?.get(column);
  if (index === undefined) throw new HealbertError('ERR_DATA', `${path}:1: no column '${column}' in the header`);
  return index;
}

/** Reads one split of a GLUE task from its TSV file, checking every row's field count and label. */
export async function readGlueTsv(path: string, task: GlueTask, split: TsvSplit, options: LoadOptions = {}): Promise<GlueFileResult> {
  const examples: Example[] = [];
  const skipped: SkippedRow[] = [];
  const labelIds = new Map(task.labelValues.map((v, i) => [v, i]));
  let fieldCount = split.fieldCount;
  let text = -1;
  let pair = -1;
  let label = -1;
  const resolve = (names: Map<string, number> | undefined) => {
    text = columnIndex(split.text, names, path);
    pair = split.textPair === undefined ? -1 : columnIndex(split.textPair, names, path);
    label = split.label === undefined ? -1 : columnIndex(split.label, names, path);
  };
  if (!split.header) resolve(undefined);
  let headerSeen = !split.header;
  const malformed = (line: number, reason: string) => {
    if (options.onMalformed === 'skip') skipped.push({ file: path, line, reason });
    else throw new HealbertError('ERR_DATA', `${path}:${line}: ${reason}`);
  };
  for await (const [line, content] of readLines(path)) {
    if (content === '') {
      skipped.push({ file: path, line, reason: 'blank line' });
      continue;
    }
    const fields = content.split('\t');
    if (!headerSeen) {
      headerSeen = true;
      fieldCount = fields.length;
      resolve(new Map(fields.map((name, i) => [name, i])));
      continue;
    }
    if (fieldCount !== undefined && fields.length !== fieldCount) {
      malformed(line, `expected ${fieldCount} tab-separated fields, found ${fields.length}`);
      continue;
    }
    const example: Example = { text: fields[text] as string };
    if (pair >= 0) example.textPair = fields[pair] as string;
    if (label >= 0) {
      const raw = fields[label] as string;
      if (task.isRegression) {
        const value = Number(raw);
        if (raw.trim() === '' || !Number.isFinite(value)) {
          malformed(line, `score '${raw}' is not a number`);
          continue;
        }
        example.label = value;
      } else {
        const id = labelIds.get(raw);
        if (id === undefined) {
          malformed(line, `unknown label '${raw}' (expected one of ${task.labelValues.join(', ')})`);
          continue;
        }
        example.label = id;
      }
    }
    examples.push(example);
  }
  if (!headerSeen) throw new HealbertError('ERR_DATA', `${path}: empty file (no header row)`);
  return { examples, skipped };
}
