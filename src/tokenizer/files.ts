/** The files of a model folder that make its tokenizer, shared by everything that copies, hashes or checks them. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Files a tokenizer is read from; one of them must be present (see load.ts for the order). */
export const TOKENIZER_ENTRY_FILES = ['tokenizer.json', 'vocab.txt', 'vocab.json', 'sentencepiece.bpe.model', 'spiece.model', 'spm.model'];

/** Every file the tokenizer of a folder may read, besides config.json (copied with a model, fingerprinted in sweeps). */
export const TOKENIZER_FILES = [
  ...TOKENIZER_ENTRY_FILES,
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'merges.txt',
];

export function hasTokenizerFiles(dir: string): boolean {
  return TOKENIZER_ENTRY_FILES.some((f) => existsSync(join(dir, f)));
}
