/** Reading a model folder's tokenizer files: JSON, optional files, and the settings of tokenizer_config.json. */
import { readFile } from 'node:fs/promises';
import { HealbertError } from '../errors.js';
import type { AddedToken } from './added-tokens.js';

export type Json = Record<string, unknown>;

export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HealbertError('ERR_IO', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export function parseJson(text: string, path: string): Json {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Json;
  } catch (error) {
    throw new HealbertError('ERR_DATA', `${path}: invalid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** A special-token entry of tokenizer_config.json: a string or an AddedToken-like object. */
export function configToken(config: Json, key: string, fallback: string): string {
  const value = config[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as Json).content === 'string') return (value as Json).content as string;
  return fallback;
}

export function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

export function modelMaxLength(config: Json): number | undefined {
  const value = config.model_max_length;
  // Hugging Face writes a huge sentinel (1e30) when a model has no limit.
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 1e9 ? value : undefined;
}

/**
 * An added token as tokenizer.json (or tokenizer_config.json's added_tokens_decoder) writes it.
 * `normalized` defaults to true as tokenizer.json reads; Python's AddedToken defaults it to `!special`.
 */
export function addedToken(t: Json, id: number, special = bool(t.special, false), normalized = bool(t.normalized, true)): AddedToken {
  return {
    content: String(t.content),
    id,
    special,
    lstrip: bool(t.lstrip, false),
    rstrip: bool(t.rstrip, false),
    singleWord: bool(t.single_word, false),
    normalized,
  };
}

export function padding(config: Json, fallback: string, vocab: [string, number][], added: AddedToken[], path: string) {
  const padToken = configToken(config, 'pad_token', fallback);
  const id = added.find((t) => t.content === padToken)?.id ?? vocab.find(([t]) => t === padToken)?.[1];
  if (id === undefined) throw new HealbertError('ERR_DATA', `${path}: the padding token '${padToken}' is not in the vocabulary`);
  return { padToken, padId: id };
}
