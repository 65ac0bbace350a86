/** Shared by the tokenizer tests: fixture paths, the edge-case inputs, and Hugging Face's Rust tokenizer. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/binding.js';

export const fixtures = join(packageRoot, 'test', 'fixtures');
export const models = join(fixtures, 'tokenizer', 'models');
export const sharedData = join(packageRoot, '..', 'shared', 'data');
export const hasShared = existsSync(join(sharedData, 'glue'));

export interface ParityInput {
  text: string;
  text_pair?: string;
}

/** The inputs of the parity fixtures (real GLUE sentences and edge cases), shared with the HF generator. */
export function parityInputs(): ParityInput[] {
  return readFileSync(join(fixtures, 'tokenizer', 'inputs.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ParityInput);
}

/** The Rust `tokenizers` library (Hugging Face's), or undefined where its binary cannot load. */
export async function loadHf(): Promise<typeof import('tokenizers') | undefined> {
  try {
    return await import('tokenizers');
  } catch {
    return undefined;
  }
}
