/** Tokenization with Hugging Face parity: WordPiece (BERT, DistilBERT) and byte-level BPE (RoBERTa). */
export type { AddedToken } from './added-tokens.js';
export type { BertNormalizerOptions } from './bert-normalizer.js';
export { type LoadTokenizerOptions, loadTokenizer, loadTokenizerSpec } from './load.js';
export type { Template, TemplatePiece, TruncationStrategy } from './post-process.js';
export { TOKENIZER_IMPLEMENTATION_VERSION, type TokenizerSpec } from './spec.js';
export { type EncodeOptions, type Encoding, Tokenizer } from './tokenizer.js';
