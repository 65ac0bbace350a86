/** What `healbert data` prints for a split: counts, label distribution and token-length percentiles. */
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { LoadedSplit } from './examples.js';

/** What `healbert data` prints for a split: counts, skipped rows, label distribution and length percentiles. */
export interface SplitSummary {
  split: string;
  file: string;
  examples: number;
  skipped: number;
  /** Class name -> count (classification with labels). */
  labels?: Record<string, number>;
  /** min / mean / max of the targets (regression). */
  targets?: { min: number; mean: number; max: number };
  /** Percentiles of the length: tokens with special tokens when a tokenizer is given, else words. */
  lengths: { unit: 'tokens' | 'words'; p50: number; p90: number; p95: number; p99: number; max: number };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

const words = (text: string) => (text.match(/\S+/g) ?? []).length;

/** Summarises a loaded split; lengths are in tokens when a tokenizer is given, else in words. */
export function summarizeSplit(loaded: LoadedSplit, tokenizer?: Tokenizer): SplitSummary {
  const lengths = Float64Array.from(loaded.examples, (e) =>
    tokenizer ? tokenizer.encode(e.text, e.textPair).inputIds.length : words(e.text) + (e.textPair === undefined ? 0 : words(e.textPair)),
  ).sort();
  const summary: SplitSummary = {
    split: loaded.split,
    file: loaded.file,
    examples: loaded.examples.length,
    skipped: loaded.skipped.length,
    lengths: {
      unit: tokenizer ? 'tokens' : 'words',
      p50: percentile(lengths, 50),
      p90: percentile(lengths, 90),
      p95: percentile(lengths, 95),
      p99: percentile(lengths, 99),
      max: lengths.length ? (lengths[lengths.length - 1] as number) : 0,
    },
  };
  const labelled = loaded.examples.filter((e) => e.label !== undefined);
  if (labelled.length > 0 && loaded.isRegression) {
    const values = labelled.map((e) => e.label as number);
    summary.targets = { min: Math.min(...values), mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
  } else if (labelled.length > 0) {
    const counts: Record<string, number> = {};
    for (const name of loaded.labelNames) counts[name] = 0;
    for (const e of labelled) {
      const name = loaded.labelNames[e.label as number] ?? String(e.label);
      counts[name] = (counts[name] ?? 0) + 1;
    }
    summary.labels = counts;
  }
  return summary;
}
