/**
 * Packing a corpus into fixed-length sequences: [CLS] s1 s2 ... [SEP], whole sentences of one document
 * added while they fit (a sentence longer than a sequence is split across sequences). Whole documents are
 * held out for evaluation, so no held-out text leaks into training. The packed corpus is cached on disk,
 * keyed by the tokenizer's and the files' content.
 */
import { cacheKey, contentHash, readCached, writeCached } from '../data/cache.js';
import type { TokenizedDataset } from '../data/tokenized.js';
import { HealbertError } from '../errors.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { corpusFiles, type Document, readDocuments } from './corpus.js';

export interface SpecialIds {
  cls: number;
  sep: number;
  mask: number;
  pad: number;
  vocabSize: number;
}

export interface PackedCorpus {
  train: TokenizedDataset;
  heldOut: TokenizedDataset;
  specials: SpecialIds;
  documents: number;
  heldOutDocuments: string[];
  sentences: number;
  /** Tokens in the training sequences, special tokens included. */
  trainTokens: number;
  files: string[];
  cached: boolean;
}

const PACKING_VERSION = 1;

export function specialIds(tokenizer: Tokenizer): SpecialIds {
  const vocab = new Map(tokenizer.spec.model.vocab);
  for (const t of tokenizer.spec.addedTokens) vocab.set(t.content, t.id);
  const mask = vocab.get('[MASK]') ?? vocab.get('<mask>');
  const [cls, sep] = tokenizer.encodeIds([], undefined).inputIds;
  if (mask === undefined || cls === undefined || sep === undefined) {
    throw new HealbertError(
      'ERR_ARGUMENT',
      'the tokenizer has no [MASK] token or no [CLS]/[SEP] template; it cannot be used for MLM pre-training',
    );
  }
  return { cls, sep, mask, pad: tokenizer.padId, vocabSize: Math.max(...vocab.values()) + 1 };
}

function dataset(sequences: number[][], tokenizer: Tokenizer, maxLength: number): TokenizedDataset {
  const offsets = new Int32Array(sequences.length + 1);
  sequences.forEach((s, i) => {
    offsets[i + 1] = (offsets[i] as number) + s.length;
  });
  const ids = new Int32Array(offsets[sequences.length] as number);
  sequences.forEach((s, i) => {
    ids.set(s, offsets[i] as number);
  });
  return {
    size: sequences.length,
    ids,
    typeIds: new Uint8Array(ids.length),
    offsets,
    labels: undefined,
    isRegression: false,
    padId: tokenizer.padId,
    maxLength,
    tokenizerHash: tokenizer.hash,
  };
}

/** Sequences of one document, each at most maxLength tokens including [CLS] and [SEP]. */
export function packDocument(tokenizer: Tokenizer, doc: Document, maxLength: number, ids: SpecialIds): number[][] {
  const room = maxLength - 2;
  const out: number[][] = [];
  let current: number[] = [];
  const flush = () => {
    if (current.length) out.push([ids.cls, ...current, ids.sep]);
    current = [];
  };
  for (const sentence of doc.sentences) {
    let tokens = tokenizer.tokenize(sentence);
    if (current.length + tokens.length > room) flush();
    while (tokens.length > room) {
      out.push([ids.cls, ...tokens.slice(0, room), ids.sep]);
      tokens = tokens.slice(room);
    }
    current.push(...tokens);
  }
  flush();
  return out;
}

export interface PackOptions {
  maxLength: number;
  /** Every k-th document (by sorted file name) is held out; k = round(1 / holdOut). */
  holdOut: number;
  cacheDir: string | false;
}

export async function packCorpus(tokenizer: Tokenizer, paths: string[], options: PackOptions): Promise<PackedCorpus> {
  if (!Number.isInteger(options.maxLength) || options.maxLength < 8)
    throw new HealbertError('ERR_ARGUMENT', `maxLength must be an integer >= 8, got ${options.maxLength}`);
  if (!(options.holdOut > 0 && options.holdOut < 0.5))
    throw new HealbertError('ERR_ARGUMENT', `holdOut must be in (0, 0.5), got ${options.holdOut}`);
  const files = await corpusFiles(paths);
  const specials = specialIds(tokenizer);
  const every = Math.round(1 / options.holdOut);
  // One file at a time: a corpus of tens of thousands of small files (one review each) would otherwise
  // open them all at once and run out of file descriptors (EMFILE).
  const fileHashes: string[] = [];
  for (const f of files) fileHashes.push(await contentHash(f));
  const key = cacheKey({
    kind: 'mlm-corpus',
    version: PACKING_VERSION,
    tokenizer: tokenizer.hash,
    fileHashes,
    maxLength: options.maxLength,
    every,
  });
  if (options.cacheDir) {
    const train = await readCached(options.cacheDir, `${key}-train`);
    const heldOut = await readCached(options.cacheDir, `${key}-heldout`);
    if (train && heldOut) {
      const extra = train.extra as Omit<PackedCorpus, 'train' | 'heldOut' | 'specials' | 'files' | 'cached'>;
      return { ...extra, train: train.dataset, heldOut: heldOut.dataset, specials, files, cached: true };
    }
  }
  const documents = await readDocuments(files);
  const trainSequences: number[][] = [];
  const heldOutSequences: number[][] = [];
  const heldOutDocuments: string[] = [];
  let sentences = 0;
  documents.forEach((doc, i) => {
    sentences += doc.sentences.length;
    const packed = packDocument(tokenizer, doc, options.maxLength, specials);
    if (i % every === every - 1) {
      heldOutDocuments.push(doc.name);
      heldOutSequences.push(...packed);
    } else {
      trainSequences.push(...packed);
    }
  });
  if (trainSequences.length === 0 || heldOutSequences.length === 0) {
    throw new HealbertError(
      'ERR_DATA',
      `the corpus (${files.length} files) is too small to hold out one document in every ${every} for evaluation`,
    );
  }
  const train = dataset(trainSequences, tokenizer, options.maxLength);
  const heldOut = dataset(heldOutSequences, tokenizer, options.maxLength);
  const summary = { documents: documents.length, heldOutDocuments, sentences, trainTokens: train.ids.length };
  if (options.cacheDir) {
    await writeCached(options.cacheDir, `${key}-train`, train, summary);
    await writeCached(options.cacheDir, `${key}-heldout`, heldOut, summary);
  }
  return { ...summary, train, heldOut, specials, files, cached: false };
}
