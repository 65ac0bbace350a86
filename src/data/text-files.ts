/**
 * The generic loader for text-classification files: CSV, TSV (or any delimiter), JSONL and Parquet, plus
 * the aclImdb folder layout. Columns are named (or numbered, for files without a header); labels map
 * through a given table, an integer offset, or a map derived from the values found (sorted).
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { HealbertError } from '../errors.js';
import { readAclImdb } from './aclimdb.js';
import { parseDelimited } from './csv.js';
import type { Example, LoadOptions, SkippedRow } from './examples.js';
import { readLines } from './lines.js';
import { readParquetRows } from './parquet.js';

/** A column by header name, or by 0-based index for files without a header. */
export type Column = string | number;

/** The file formats loadTextFile reads (aclimdb: the aclImdb folder of pos/ and neg/ text files). */
export type TextFileFormat = 'csv' | 'tsv' | 'jsonl' | 'parquet' | 'aclimdb';

/** How to read one text-classification file: its format, its columns and how its labels map to class ids. */
export interface TextFileOptions {
  /** Inferred from the extension when omitted (.csv, .tsv, .jsonl/.json, .parquet). */
  format?: TextFileFormat;
  /** CSV/TSV: the first row names the columns (default true). */
  header?: boolean;
  /** CSV/TSV: field delimiter (default ',' for CSV, tab for TSV). */
  delimiter?: string;
  /** CSV/TSV: honour double quotes (default true for CSV, false for TSV, as GLUE's loaders read them). */
  quote?: boolean;
  /** The text column; several are joined with a space (AG News: title and description). */
  text: Column | Column[];
  textPair?: Column;
  label?: Column;
  /** Label value as written -> class id. */
  labels?: Record<string, number>;
  /** Labels are integers; class id = value - labelOffset (e.g. 1 for 1-based classes). */
  labelOffset?: number;
}

/** A file's examples, its class names and the rows skipped (with why). */
export interface TextFileResult {
  examples: Example[];
  /** Class names: given, or derived from the values found. */
  labelNames: string[];
  skipped: SkippedRow[];
}

type Row = { line: number; get(column: Column): unknown };

/** The format a file's extension names (.csv, .tsv, .jsonl or .json, .parquet); ERR_ARGUMENT for any other. */
export function inferFormat(path: string): TextFileFormat {
  const ext = extname(path).toLowerCase();
  const format = ({ '.csv': 'csv', '.tsv': 'tsv', '.jsonl': 'jsonl', '.json': 'jsonl', '.parquet': 'parquet' } as const)[ext];
  if (!format)
    throw new HealbertError('ERR_ARGUMENT', `${path}: cannot tell the format from '${ext}'; give one of csv, tsv, jsonl, parquet`);
  return format;
}

async function* rows(path: string, format: TextFileFormat, options: TextFileOptions): AsyncGenerator<Row | { line: number; blank: true }> {
  if (format === 'csv' || format === 'tsv') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new HealbertError('ERR_IO', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    const delimiter = options.delimiter ?? (format === 'csv' ? ',' : '\t');
    let names: Map<string, number> | undefined;
    const wantHeader = options.header ?? true;
    for (const record of parseDelimited(text, path, { delimiter, quote: options.quote ?? format === 'csv' })) {
      if (record.fields.length === 1 && record.fields[0] === '') {
        yield { line: record.line, blank: true };
        continue;
      }
      if (wantHeader && names === undefined) {
        names = new Map(record.fields.map((name, i) => [name, i]));
        continue;
      }
      const { fields } = record;
      yield {
        line: record.line,
        get(column) {
          const index = typeof column === 'number' ? column : names?.get(column);
          if (index === undefined) throw new HealbertError('ERR_DATA', `${path}: no column '${column}' in the header`);
          return fields[index];
        },
      };
    }
    return;
  }
  if (format === 'jsonl') {
    for await (const [line, text] of readLines(path)) {
      if (text.trim() === '') {
        yield { line, blank: true };
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new HealbertError('ERR_DATA', `${path}:${line}: invalid JSON: ${(error as Error).message}`, { cause: error });
      }
      if (typeof value !== 'object' || value === null) throw new HealbertError('ERR_DATA', `${path}:${line}: expected a JSON object`);
      const object = value as Record<string, unknown>;
      yield { line, get: (column) => object[String(column)] };
    }
    return;
  }
  const records = format === 'parquet' ? await readParquetRows(path) : await readAclImdb(path);
  let line = 0;
  for (const record of records) {
    line++;
    yield { line, get: (column) => record[String(column)] };
  }
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/** Reads one file into examples. `where` names the unit of position in messages ('line' or 'row'). */
export async function loadTextFile(
  path: string,
  options: TextFileOptions,
  load: LoadOptions & { labelNames?: string[] } = {},
): Promise<TextFileResult> {
  const format = options.format ?? inferFormat(path);
  const where = format === 'parquet' || format === 'aclimdb' ? 'row' : 'line';
  const skipped: SkippedRow[] = [];
  const examples: Example[] = [];
  const rawLabels: string[] = [];
  const textColumns = Array.isArray(options.text) ? options.text : [options.text];
  const given =
    options.labels ??
    (load.labelNames && options.labelOffset === undefined ? Object.fromEntries(load.labelNames.map((n, i) => [n, i])) : undefined);
  const malformed = (line: number, reason: string) => {
    if (load.onMalformed === 'skip') skipped.push({ file: path, line, reason });
    else throw new HealbertError('ERR_DATA', `${path}:${line}: ${reason}`);
  };
  for await (const row of rows(path, format, options)) {
    if ('blank' in row) {
      skipped.push({ file: path, line: row.line, reason: 'blank line' });
      continue;
    }
    const parts = textColumns.map((c) => asText(row.get(c)));
    const pair = options.textPair === undefined ? undefined : asText(row.get(options.textPair));
    const label = options.label === undefined ? undefined : asText(row.get(options.label));
    if (parts.some((p) => p === undefined) || (options.textPair !== undefined && pair === undefined)) {
      malformed(row.line, `missing text field (${where} ${row.line})`);
      continue;
    }
    if (options.label !== undefined && label === undefined) {
      malformed(row.line, 'missing label field');
      continue;
    }
    const example: Example = { text: parts.join(' ') };
    if (pair !== undefined) example.textPair = pair;
    if (label !== undefined) {
      if (given) {
        const id = given[label];
        if (id === undefined) {
          malformed(row.line, `unknown label '${label}' (expected one of ${Object.keys(given).join(', ')})`);
          continue;
        }
        example.label = id;
      } else if (options.labelOffset !== undefined) {
        const value = Number(label);
        if (!Number.isInteger(value) || value - options.labelOffset < 0) {
          malformed(row.line, `label '${label}' is not an integer >= ${options.labelOffset}`);
          continue;
        }
        example.label = value - options.labelOffset;
      } else {
        rawLabels[examples.length] = label;
      }
    }
    examples.push(example);
  }
  if (given) return { examples, labelNames: load.labelNames ?? namesOf(given), skipped };
  if (options.labelOffset !== undefined || options.label === undefined) return { examples, labelNames: load.labelNames ?? [], skipped };
  const derived = deriveLabelMap(rawLabels.filter((l) => l !== undefined));
  examples.forEach((e, i) => {
    e.label = derived.get(rawLabels[i] as string) as number;
  });
  return { examples, labelNames: [...derived.keys()], skipped };
}

function namesOf(map: Record<string, number>): string[] {
  const names: string[] = [];
  for (const [name, id] of Object.entries(map)) names[id] = names[id] === undefined ? name : names[id];
  return names;
}

/** Distinct label values, sorted (numerically when all are integers), to ids 0..K-1. */
export function deriveLabelMap(values: string[]): Map<string, number> {
  const distinct = [...new Set(values)];
  const numeric = distinct.every((v) => /^-?\d+$/.test(v));
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(distinct.map((v, i) => [v, i]));
}
