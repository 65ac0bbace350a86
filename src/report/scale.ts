/**
 * How much of a large sweep the report's pages show. A cluster sweep has thousands of conditions (4,095
 * layer subsets per method and seed on a 12-layer model): a figure with a row, line or series for each is
 * unreadable and its page tens of megabytes. Above these limits the figures summarise (figures-summary.ts)
 * and the HTML and Markdown tables show their first rows; every row stays in csv/ and analysis.json, and
 * the page says so where it cuts.
 */

/** Layer sets of one method above which its heatmap gives way to summaries (a 12-row heatmap is fine). */
export const MAX_HEATMAP_ROWS = 40;
/** Corrupted conditions of one method above which the recovery curves show their spread, not each line. */
export const MAX_CURVES = 12;
/** Layer sets above which the dose-response figure shows only those measured at the most doses. */
export const MAX_DOSE_SERIES = 12;
/** Figures of one kind (one per method context) beyond which the contexts with the fewest cells are left out. */
export const MAX_FIGURES_PER_KIND = 8;
/** Rows of a table shown in the page (HTML, Markdown); the CSV and JSON keep all. */
export const MAX_PAGE_ROWS = 100;
/** How many of the most and of the least harmful layer sets the extremes figure lists. */
export const EXTREMES = 20;

/** The 10th and 90th percentiles and the mean of some values (linear interpolation between order statistics). */
export function spread(values: readonly number[]): { mean: number; low: number; high: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => {
    const h = (sorted.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
  };
  return { mean: values.reduce((s, v) => s + v, 0) / values.length, low: at(0.1), high: at(0.9) };
}

/**
 * The rows a page shows of a table longer than MAX_PAGE_ROWS: cells that are not done first (diverged,
 * failed, running, pending: what a reader of a large sweep looks for), then the rest in table order.
 */
export function pageRows<T extends Record<string, unknown>>(rows: readonly T[]): T[] {
  if (rows.length <= MAX_PAGE_ROWS) return [...rows];
  const flagged = (r: T) => typeof r.status === 'string' && r.status !== 'done';
  return [...rows.filter(flagged), ...rows.filter((r) => !flagged(r))].slice(0, MAX_PAGE_ROWS);
}
