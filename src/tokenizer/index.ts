/**
 * Tokenization with Hugging Face parity: WordPiece (BERT, DistilBERT), byte-level BPE (RoBERTa) and
 * SentencePiece Unigram (XLM-R, ALBERT, DeBERTa-v3), as transformers 5.17's AutoTokenizer reads each folder.
 */
export type { AddedToken } from './added-tokens.js';
export type { BertNormalizerOptions } from './bert-normalizer.js';
export { type LoadTokenizerOptions, loadTokenizer, loadTokenizerSpec } from './load.js';
export type { NormalizerStep } from './normalizers.js';
export type { Template, TemplatePiece, TruncationStrategy } from './post-process.js';
export type { PreTokenizerStep } from './pre-tokenizers.js';
export { TOKENIZER_IMPLEMENTATION_VERSION, type TokenizerSpec } from './spec.js';
export { type EncodeOptions, type Encoding, Tokenizer } from './tokenizer.js';
