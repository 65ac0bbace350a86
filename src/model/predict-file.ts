/**
 * Predictions for a JSONL file of inputs: each line {"input_ids": [...], "attention_mask"?: [...],
 * "token_type_ids"?: [...]}, or text, {"text": "...", "text_pair"?: "..."}, tokenized with the model folder's
 * tokenizer; each output line {"logits": [...], "prediction": n[, "label": name]}. Lines are
 * batched with padding to the longest in the batch. The output is written to a temporary file and renamed
 * at the end, so an interrupted run never leaves a truncated file under the requested name.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { temporaryPathFor } from '../atomic.js';
import type { Batch } from '../batch.js';
import { HealbertError } from '../errors.js';
import { maxSequenceLength } from './config.js';
import type { Model } from './model.js';

export interface TokenizedLine {
  inputIds: number[];
  attentionMask?: number[];
  tokenTypeIds?: number[];
}

function intArray(value: unknown, field: string, where: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) {
    throw new HealbertError('ERR_DATA', `${where}: "${field}" must be an array of integers`);
  }
  return value as number[];
}

/** Turns text (and an optional second text) into token ids and token types, truncated to the model. */
export type TextEncoder = (text: string, pair: string | undefined) => { inputIds: number[]; tokenTypeIds: number[] };

/**
 * Parses one JSONL input line; `where` is "file:line" for messages. Text lines need `encodeText`; without
 * it, `noTextReason` says why (e.g. the model folder has no tokenizer).
 */
export function parseTokenizedLine(text: string, where: string, encodeText?: TextEncoder, noTextReason?: string): TokenizedLine {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(text);
  } catch (error) {
    throw new HealbertError('ERR_DATA', `${where}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw new HealbertError('ERR_DATA', `${where}: expected a JSON object`);
  if (obj.input_ids === undefined && obj.text !== undefined) return parseTextLine(obj, where, encodeText, noTextReason);
  const inputIds = intArray(obj.input_ids, 'input_ids', where);
  if (inputIds.length === 0) throw new HealbertError('ERR_DATA', `${where}: "input_ids" is empty`);
  const line: TokenizedLine = { inputIds };
  for (const [key, field] of [
    ['attention_mask', 'attentionMask'],
    ['token_type_ids', 'tokenTypeIds'],
  ] as const) {
    if (obj[key] === undefined) continue;
    const values = intArray(obj[key], key, where);
    if (values.length !== inputIds.length) {
      throw new HealbertError('ERR_DATA', `${where}: "${key}" has ${values.length} entries but "input_ids" has ${inputIds.length}`);
    }
    line[field] = values;
  }
  return line;
}

function parseTextLine(obj: Record<string, unknown>, where: string, encodeText?: TextEncoder, noTextReason?: string): TokenizedLine {
  if (typeof obj.text !== 'string') throw new HealbertError('ERR_DATA', `${where}: "text" must be a string`);
  if (obj.text_pair !== undefined && typeof obj.text_pair !== 'string')
    throw new HealbertError('ERR_DATA', `${where}: "text_pair" must be a string`);
  if (!encodeText) throw new HealbertError('ERR_DATA', `${where}: a "text" input needs a tokenizer: ${noTextReason ?? 'none was given'}`);
  const encoding = encodeText(obj.text, obj.text_pair as string | undefined);
  return { inputIds: encoding.inputIds, tokenTypeIds: encoding.tokenTypeIds };
}

/** Pads lines to the longest into one batch. */
export function collate(lines: TokenizedLine[], padTokenId: number): Batch {
  const seqLen = Math.max(...lines.map((l) => l.inputIds.length));
  const n = lines.length * seqLen;
  const inputIds = new Int32Array(n).fill(padTokenId);
  const attentionMask = new Uint8Array(n);
  const tokenTypeIds = new Int32Array(n);
  lines.forEach((line, row) => {
    const base = row * seqLen;
    inputIds.set(line.inputIds, base);
    if (line.attentionMask) attentionMask.set(line.attentionMask, base);
    else attentionMask.fill(1, base, base + line.inputIds.length);
    if (line.tokenTypeIds) tokenTypeIds.set(line.tokenTypeIds, base);
  });
  return { batchSize: lines.length, seqLen, inputIds, attentionMask, tokenTypeIds };
}

/** Token ids, token types and length against the model, so errors name the input line, not a batch row. */
function checkAgainstModel(line: TokenizedLine, model: Model, where: string): void {
  const { vocabSize, typeVocabSize } = model.config;
  const max = maxSequenceLength(model.config);
  if (line.inputIds.length > max)
    throw new HealbertError('ERR_DATA', `${where}: ${line.inputIds.length} tokens, but the model takes at most ${max}`);
  const bad = line.inputIds.findIndex((id) => id < 0 || id >= vocabSize);
  if (bad >= 0)
    throw new HealbertError('ERR_DATA', `${where}: input_ids[${bad}] = ${line.inputIds[bad]} is outside the vocabulary [0, ${vocabSize})`);
  // A model without token-type embeddings ignores them (as transformers' DeBERTa-v3 and ModernBERT do).
  const types = typeVocabSize > 0 ? typeVocabSize : Number.POSITIVE_INFINITY;
  const badType = line.tokenTypeIds?.findIndex((t) => t < 0 || t >= types) ?? -1;
  if (badType >= 0) throw new HealbertError('ERR_DATA', `${where}: token_type_ids[${badType}] is outside [0, ${types})`);
}

export interface PredictFileOptions {
  batchSize?: number;
  labels?: string[];
  /** Tokenizes text lines; without it they fail with `noTextReason`. */
  encodeText?: TextEncoder;
  noTextReason?: string;
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
}

export async function predictFile(model: Model, inputPath: string, outputPath: string, options: PredictFileOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? 32;
  const temporary = temporaryPathFor(outputPath);
  const out = createWriteStream(temporary);
  const input = createReadStream(inputPath);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', (error) => reject(new HealbertError('ERR_IO', `${inputPath}: cannot read (${error.message})`)));
  });
  let done = 0;
  const pending: TokenizedLine[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const logits = await model.predict(collate(pending, model.config.padTokenId));
    const k = model.config.numLabels;
    for (let row = 0; row < pending.length; row++) {
      const values = Array.from(logits.subarray(row * k, (row + 1) * k));
      const record: Record<string, unknown> = { logits: values };
      if (model.config.head === 'classification') {
        const prediction = values.indexOf(Math.max(...values));
        record.prediction = prediction;
        if (options.labels?.[prediction] !== undefined) record.label = options.labels[prediction];
      }
      out.write(`${JSON.stringify(record)}\n`);
    }
    done += pending.length;
    pending.length = 0;
    options.onProgress?.(done);
  };
  try {
    await opened;
    let lineNumber = 0;
    for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      lineNumber += 1;
      if (options.signal?.aborted) throw new HealbertError('ERR_ARGUMENT', 'interrupted');
      if (text.trim() === '') continue;
      const where = `${inputPath}:${lineNumber}`;
      const line = parseTokenizedLine(text, where, options.encodeText, options.noTextReason);
      checkAgainstModel(line, model, where);
      pending.push(line);
      if (pending.length === batchSize) await flush();
    }
    await flush();
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    await rename(temporary, outputPath);
    return done;
  } catch (error) {
    out.destroy();
    input.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}
