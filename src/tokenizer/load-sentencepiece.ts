/**
 * A folder with a SentencePiece model file and no tokenizer.json (microsoft/deberta-v3-base ships only
 * spm.model), read as transformers 5.17 converts it: the file the class names (XLM-R
 * sentencepiece.bpe.model, ALBERT spiece.model, DeBERTa spm.model), its pieces and scores as the Unigram
 * vocabulary (XLM-R's reordered to fairseq's <s> <pad> </s> <unk> ... <mask>), its control and
 * user-defined pieces as extra special tokens, and its charsmap; the class builds the rest.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import { configToken, type Json } from './load-common.js';
import { unigramSpec } from './load-unigram.js';
import { PIECE_TYPE, parseSentencePieceModel } from './sentencepiece-model.js';
import type { TokenizerSpec } from './spec.js';
import { CLASS_SPECIAL_TOKENS, chooseClass, PIPELINE_CLASSES, type PipelineClass } from './transformers-classes.js';

export const SENTENCEPIECE_FILES: Record<PipelineClass, string> = {
  XLMRobertaTokenizer: 'sentencepiece.bpe.model',
  AlbertTokenizer: 'spiece.model',
  DebertaV2Tokenizer: 'spm.model',
};

async function readBytes(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HealbertError('ERR_IO', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The spec from the folder's SentencePiece model, or undefined where the folder has no model file.
 * `config`: tokenizer_config.json (with special_tokens_map.json merged in); `modelConfig`: config.json.
 */
export async function sentencepieceSpec(
  dir: string,
  config: Json,
  modelConfig: Json | undefined,
): Promise<Omit<TokenizerSpec, 'hash'> | undefined> {
  const present: [string, Uint8Array][] = [];
  for (const name of Object.values(SENTENCEPIECE_FILES)) {
    const bytes = await readBytes(join(dir, name));
    if (bytes) present.push([name, bytes]);
  }
  if (present.length === 0) return undefined;
  const choice = chooseClass(config, modelConfig);
  const cls = choice.kind === 'pipeline' ? choice.name : undefined;
  const file = cls && present.find(([name]) => name === SENTENCEPIECE_FILES[cls]);
  if (!cls || !file) {
    const what = choice.name === undefined ? 'no tokenizer class' : `tokenizer class '${choice.name}'`;
    throw new HealbertError(
      'ERR_DATA',
      `${join(dir, (present[0] as [string, Uint8Array])[0])}: a SentencePiece model without tokenizer.json, and ${what}: healbert converts ` +
        `${PIPELINE_CLASSES.map((c) => `${SENTENCEPIECE_FILES[c]} (${c})`).join(', ')}; for another, save the tokenizer with ` +
        'transformers (AutoTokenizer.from_pretrained(folder).save_pretrained(folder)) to get a tokenizer.json',
    );
  }
  const path = join(dir, file[0]);
  const model = parseSentencePieceModel(file[1], path);
  const special = (key: string) => configToken(config, key, CLASS_SPECIAL_TOKENS[cls][key] as string);
  // transformers builds a Unigram from the pieces whatever the file's model type (XLMRobertaConverter.convert_from_spm).
  let pieces = model.pieces.map((p): [string, number] => [p.piece, p.score]);
  if (cls === 'XLMRobertaTokenizer') {
    const head = ['bos_token', 'pad_token', 'eos_token', 'unk_token'].map((k): [string, number] => [special(k), 0]);
    pieces = [...head, ...pieces.slice(3), [special('mask_token'), 0]];
  }
  // Control and user-defined pieces become extra special tokens, unless tokenizer_config.json lists its own.
  const extra = model.pieces
    .filter((p) => p.type === PIECE_TYPE.CONTROL || p.type === PIECE_TYPE.USER_DEFINED)
    .map((p) => ({ content: p.piece, special: p.type === PIECE_TYPE.CONTROL, normalized: false }));
  const hasExtra = 'extra_special_tokens' in config || 'additional_special_tokens' in config;
  return unigramSpec(
    {
      pieces,
      unkId: model.unkId,
      byteFallback: model.byteFallback,
      addedTokens: [],
      normalizer: null,
      preTokenizer: null,
      postProcessor: null,
      charsmap: model.charsmap ? Buffer.from(model.charsmap).toString('base64') : undefined,
      fromTokenizerJson: false,
      path,
      files: [path],
    },
    // The file's unknown id is DeBERTa's fallback (the extractor passes it over tokenizer_config.json's).
    { ...config, unk_id: model.unkId, ...(hasExtra ? {} : { extra_special_tokens: extra }) },
    modelConfig,
  );
}
