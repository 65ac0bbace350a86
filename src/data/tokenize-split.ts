/** tokenizeSplit: load a split, tokenize it, and cache the result on disk (keyed by content hashes). */
import { access, constants, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TruncationStrategy } from '../tokenizer/post-process.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { cacheKey, contentHash, readCached, writeCached } from './cache.js';
import type { LoadOptions, SkippedRow } from './examples.js';
import { loadSplit, splitPath } from './load-split.js';
import { getTask, resolveSplit, type Task } from './tasks.js';
import { type TokenizedDataset, tokenizeExamples } from './tokenized.js';

/** Options of {@link tokenizeSplit}: the tokenizer, task, data root, split, length and cache. */
export interface TokenizeSplitOptions extends LoadOptions {
  tokenizer: Tokenizer;
  task: Task | string;
  dataRoot: string;
  split: string;
  maxLength: number;
  truncation?: TruncationStrategy;
  /**
   * Where cached datasets go; false turns caching off. Default: $HEALBERT_CACHE_DIR, else
   * `<dataRoot>/.healbert-cache` when the data root is writable, else `./.healbert-cache`.
   */
  cacheDir?: string | false;
}

/** A tokenized split, with where it came from and whether it was read from the cache. */
export interface TokenizedSplit {
  dataset: TokenizedDataset;
  task: string;
  split: string;
  file: string;
  labelNames: string[];
  skipped: SkippedRow[];
  /** True when read from the cache. */
  cached: boolean;
  /** The cache file, when caching is on. */
  cachePath: string | undefined;
}

/**
 * Where tokenized splits are cached: `HEALBERT_CACHE_DIR`, else `<dataRoot>/.healbert-cache` when the data root is
 * writable, else `.healbert-cache` in the working directory.
 */
export async function defaultCacheDir(dataRoot: string): Promise<string> {
  if (process.env.HEALBERT_CACHE_DIR) return process.env.HEALBERT_CACHE_DIR;
  const writable = await access(dataRoot, constants.W_OK).then(
    () => true,
    () => false,
  );
  return writable ? join(dataRoot, '.healbert-cache') : join(process.cwd(), '.healbert-cache');
}

/** Loads and tokenizes one split of a task, reusing the on-disk cache keyed by the tokenizer's and the file's content. */
export async function tokenizeSplit(options: TokenizeSplitOptions): Promise<TokenizedSplit> {
  const task = typeof options.task === 'string' ? getTask(options.task) : options.task;
  const split = resolveSplit(task, options.split);
  const file = splitPath(task, options.dataRoot, split);
  const truncation = options.truncation ?? 'longest_first';
  const base = { task: task.name, split, file, labelNames: task.labelNames };
  let cacheDir: string | undefined;
  let key: string | undefined;
  if (options.cacheDir !== false) {
    cacheDir = options.cacheDir ?? (await defaultCacheDir(options.dataRoot));
    // aclImdb splits may live in a tarball beside the split path: hash the task folder then.
    const hashed = await stat(file).then(
      () => file,
      () => dirname(file),
    );
    key = cacheKey({
      tokenizer: options.tokenizer.hash,
      data: await contentHash(hashed),
      task: task.name,
      split,
      maxLength: options.maxLength,
      truncation,
      onMalformed: options.onMalformed ?? 'error',
    });
    const hit = await readCached(cacheDir, key);
    if (hit) {
      return {
        ...base,
        dataset: hit.dataset,
        skipped: (hit.extra as { skipped: SkippedRow[] }).skipped,
        cached: true,
        cachePath: join(cacheDir, `${key}.bin`),
      };
    }
  }
  const loaded = await loadSplit(task, options.dataRoot, split, options);
  const dataset = tokenizeExamples(options.tokenizer, loaded.examples, {
    maxLength: options.maxLength,
    truncation,
    isRegression: task.isRegression,
  });
  let cachePath: string | undefined;
  if (cacheDir !== undefined && key !== undefined) cachePath = await writeCached(cacheDir, key, dataset, { skipped: loaded.skipped });
  return { ...base, dataset, skipped: loaded.skipped, cached: false, cachePath };
}
