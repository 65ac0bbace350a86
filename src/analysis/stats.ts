/**
 * Descriptive statistics over seeds and the percentile bootstrap. Pure and deterministic: every random
 * draw comes from a seeded generator passed in (src/data/random.ts), so the same seed gives the same
 * intervals on every machine.
 */
import { fillUniform } from '../data/random.js';

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
export function quantile(sorted: ArrayLike<number>, p: number): number {
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
 *
 * A report of a cluster sweep runs tens of thousands of these over 3-5 seeds, so with few values (n^n <=
 * 1024 ordered resamples: 3 seeds make 27) the statistic is taken once per distinct resample and the
 * quantiles come from counts instead of a sort. The draws, the samples (in draw order) and so the interval
 * are exactly those of resampling one by one.
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
  const p = [(1 - level) / 2, 1 - (1 - level) / 2] as const;
  if (draws.length !== resamples * n) draws = new Float64Array(resamples * n);
  const u = fillUniform(draws, options.seed ?? 0);
  const sample = new Array<number>(n);
  const stats = new Float64Array(resamples);
  const tuples = n ** n;
  if (tuples > 1024) {
    for (let r = 0, k = 0; r < resamples; r++) {
      for (let i = 0; i < n; i++, k++) sample[i] = values[Math.floor((u[k] as number) * n)] as number;
      stats[r] = statistic(sample);
    }
    return fromSorted(stats, p);
  }
  const counts = new Uint32Array(tuples);
  const codes = new Uint16Array(resamples);
  for (let r = 0, k = 0; r < resamples; r++) {
    let code = 0;
    for (let i = 0; i < n; i++, k++) code = code * n + Math.floor((u[k] as number) * n);
    codes[r] = code;
    counts[code] = (counts[code] as number) + 1;
  }
  const drawn: { value: number; count: number }[] = [];
  const tupleValue = new Float64Array(tuples);
  let nan = false;
  for (let code = 0; code < tuples; code++) {
    const count = counts[code] as number;
    if (count === 0) continue;
    for (let i = n - 1, rest = code; i >= 0; i--, rest = Math.floor(rest / n)) sample[i] = values[rest % n] as number;
    const value = statistic(sample);
    if (Number.isNaN(value)) nan = true;
    tupleValue[code] = value;
    drawn.push({ value, count });
  }
  if (nan) {
    // NaNs keep the order the comparator sort gives them among the resamples.
    for (let r = 0; r < resamples; r++) stats[r] = tupleValue[codes[r] as number] as number;
    return fromSorted(stats, p);
  }
  drawn.sort((a, b) => a.value - b.value);
  // The value at rank k (0-based) of the sorted resamples.
  const at = (k: number) => {
    let seen = 0;
    for (const d of drawn) {
      seen += d.count;
      if (k < seen) return d.value;
    }
    return (drawn.at(-1) as { value: number }).value;
  };
  const q = (level: number) => {
    const h = (resamples - 1) * level;
    const lo = Math.floor(h);
    const a = at(lo);
    return a + (h - lo) * (at(Math.min(lo + 1, resamples - 1)) - a);
  };
  return { low: q(p[0]), high: q(p[1]) };
}

/** The uniforms of one bootstrap, reused between calls. */
let draws = new Float64Array(0);

function fromSorted(stats: Float64Array, p: readonly [number, number]): Interval {
  // A typed array sorts numerically as the comparator does; with NaNs the comparator's order is kept.
  const sorted = stats.some(Number.isNaN) ? Array.from(stats).sort((a, b) => a - b) : stats.sort();
  return { low: quantile(sorted, p[0]), high: quantile(sorted, p[1]) };
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
