/**
 * The statistics of a scan table: mean over seeds with a Student-t interval (few seeds: the percentile
 * bootstrap is too narrow there), and the row of one target. Pure.
 */
import { tTwoSidedP } from '../analysis/distributions.js';
import { mean, standardDeviation } from '../analysis/stats.js';
import type { ScanRow, ScanTargetRecord } from './types.js';

/** The t quantile with P(|T| <= t) = level for df degrees of freedom (bisection on the two-sided p). */
export function tCritical(level: number, df: number): number {
  if (!(level > 0 && level < 1) || !(df > 0)) return Number.NaN;
  const alpha = 1 - level;
  let [low, high] = [0, 1];
  while (tTwoSidedP(high, df) > alpha) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    const mid = (low + high) / 2;
    if (tTwoSidedP(mid, df) > alpha) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** mean +- t * sd / sqrt(n); null below two values. */
export function tInterval(values: readonly number[], level = 0.95): { low: number; high: number } | null {
  if (values.length < 2) return null;
  const m = mean(values);
  const half = (tCritical(level, values.length - 1) * standardDeviation(values)) / Math.sqrt(values.length);
  return { low: m - half, high: m + half };
}

export function scanRow(record: ScanTargetRecord, clean: number): ScanRow {
  const scores = record.runs.map((r) => r.score);
  const finite = scores.filter(Number.isFinite);
  const m = finite.length ? mean(finite) : null;
  const sd = finite.length > 1 ? standardDeviation(finite) : null;
  return {
    target: record.label,
    layer: record.layer,
    component: record.component,
    ...(record.head !== undefined ? { head: record.head } : {}),
    ...(record.neurons ? { neurons: record.neurons } : {}),
    seeds: record.runs.map((r) => r.seed),
    scores,
    n: finite.length,
    nonFinite: scores.length - finite.length,
    mean: m,
    sd,
    ci: tInterval(finite),
    drop: m === null ? null : clean - m,
    seconds: record.runs.reduce((s, r) => s + r.seconds, 0),
  };
}
