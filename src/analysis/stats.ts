/**
 * Descriptive statistics over seeds and the percentile bootstrap. Pure and deterministic: every random
 * draw comes from a seeded generator passed in (src/data/random.ts), so the same seed gives the same
 * intervals on every machine.
 */
import { seededRandom } from '../data/random.js';

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n - 1 in the denominator); NaN below two values. */
export function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) ** 2;
  return Math.sqrt(ss / (values.length - 1));
}

/** Quantile by linear interpolation between order statistics (numpy's default, Hyndman-Fan type 7). */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

export interface Interval {
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** Coverage of the interval (default 0.95). */
  level?: number;
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Seed of the resampling (default 0). */
  seed?: number;
}

/**
 * Percentile-bootstrap interval for a statistic of one sample (default: its mean). Null below two values:
 * one seed says nothing about spread. With few values the percentile interval is too narrow (it ignores
 * the t correction); the reports print the number of seeds next to every interval for that reason.
 */
export function bootstrapInterval(
  values: readonly number[],
  options: BootstrapOptions = {},
  statistic: (sample: readonly number[]) => number = mean,
): Interval | null {
  const n = values.length;
  if (n < 2) return null;
  const level = options.level ?? 0.95;
  const resamples = options.resamples ?? 2000;
  const random = seededRandom(options.seed ?? 0);
  const stats = new Float64Array(resamples);
  const sample = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = values[Math.floor(random() * n)] as number;
    stats[r] = statistic(sample);
  }
  const sorted = Array.from(stats).sort((a, b) => a - b);
  return { low: quantile(sorted, (1 - level) / 2), high: quantile(sorted, 1 - (1 - level) / 2) };
}

/** Mean, spread and interval of one quantity over seeds: the row every table prints. */
export interface Summary {
  n: number;
  mean: number | null;
  sd: number | null;
  ci: Interval | null;
}

export function summarize(values: readonly number[], options: BootstrapOptions = {}): Summary {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { n: 0, mean: null, sd: null, ci: null };
  const sd = standardDeviation(finite);
  return { n: finite.length, mean: mean(finite), sd: Number.isFinite(sd) ? sd : null, ci: bootstrapInterval(finite, options) };
}

/** A 32-bit seed derived from a base seed and a string (e.g. a group's key), so intervals do not depend on table order. */
export function deriveSeed(base: number, key: string): number {
  let h = (0x811c9dc5 ^ base) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
