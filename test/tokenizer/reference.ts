/**
 * Hugging Face's own tokenizers (the Rust library behind BertTokenizerFast and RobertaTokenizerFast,
 * through its npm binding), set up as transformers sets them up for each model folder in the fixtures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { models } from './helpers.js';

type Hf = typeof import('tokenizers');
export type HfTokenizer = InstanceType<Hf['Tokenizer']>;

function vocabId(vocabTxt: string, token: string): number {
  const id = readFileSync(vocabTxt, 'utf8').split('\n').indexOf(token);
  if (id < 0) throw new Error(`${token} not in ${vocabTxt}`);
  return id;
}

/** BertTokenizerFast as transformers converts it from a vocab.txt (BertConverter). */
export async function hfBertFromVocab(hf: Hf, vocabTxt: string, lowercase: boolean): Promise<HfTokenizer> {
  const model = await hf.WordPiece.fromFile(vocabTxt, { unkToken: '[UNK]' });
  const tokenizer = new hf.Tokenizer(model);
  tokenizer.setNormalizer(hf.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: lowercase, lowercase }));
  tokenizer.setPreTokenizer(hf.bertPreTokenizer());
  tokenizer.setPostProcessor(hf.bertProcessing(['[SEP]', vocabId(vocabTxt, '[SEP]')], ['[CLS]', vocabId(vocabTxt, '[CLS]')]));
  tokenizer.addAddedTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => new hf.AddedToken(t, true)));
  return tokenizer;
}

/**
 * RobertaTokenizer as transformers 5 builds it from vocab.json + merges.txt: plain special tokens, <mask>
 * included (transformers 4's RobertaConverter gave <mask> lstrip; a tokenizer_config.json can still ask for it).
 */
export async function hfRobertaFromFiles(hf: Hf, dir: string): Promise<HfTokenizer> {
  const model = await hf.BPE.fromFile(join(dir, 'vocab.json'), join(dir, 'merges.txt'));
  const tokenizer = new hf.Tokenizer(model);
  tokenizer.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
  tokenizer.setPostProcessor(hf.robertaProcessing(['</s>', 2], ['<s>', 0], true, false));
  tokenizer.addAddedTokens(['<s>', '<pad>', '</s>', '<unk>', '<mask>'].map((t) => new hf.AddedToken(t, true)));
  return tokenizer;
}

export interface ReferenceModel {
  name: string;
  /** Folder healbert loads. */
  dir: string;
  hf: HfTokenizer;
}

export async function referenceModels(hf: Hf): Promise<ReferenceModel[]> {
  return [
    {
      name: 'bert-base-uncased',
      dir: join(models, 'bert-base-uncased'),
      hf: hf.Tokenizer.fromFile(join(models, 'bert-base-uncased', 'tokenizer.json')),
    },
    {
      name: 'bert-base-cased',
      dir: join(models, 'bert-base-cased'),
      hf: await hfBertFromVocab(hf, join(models, 'bert-base-cased', 'vocab.txt'), false),
    },
    { name: 'roberta-base', dir: join(models, 'roberta-base'), hf: await hfRobertaFromFiles(hf, join(models, 'roberta-base')) },
  ];
}

export async function hfEncode(tokenizer: HfTokenizer, text: string, pair: string | undefined, maxLength: number | undefined) {
  if (maxLength === undefined) tokenizer.disableTruncation();
  else tokenizer.setTruncation(maxLength, { strategy: 'LongestFirst' as never });
  const encoding = await tokenizer.encode(text, pair ?? null);
  return { inputIds: encoding.getIds(), tokenTypeIds: encoding.getTypeIds(), attentionMask: encoding.getAttentionMask() };
}
