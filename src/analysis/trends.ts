/**
 * Correlations behind the paper's three claims, over seed-level points (cells of one seed are not
 * independent across layers, so the p-values are indicative): deeper single-layer corruption against
 * damage and gap (bottom layers matter more?), more corrupted layers or a higher dose against residual
 * gap (more corruption, worse recovery?), and damage against residual gap across all corrupted cells.
 */
import { type AttributionContext, seedValues } from './contexts.js';
import { type Correlation, correlation } from './hypothesis.js';
import { edgeOf } from './layers.js';
import type { CellMeasures } from './quantities.js';

export interface TrendRow {
  context: string;
  /** The dose the points share, or null when the dose varies along x. */
  dose: number | null;
  x: string;
  y: string;
  n: number;
  spearman: Correlation;
  pearson: Correlation;
}

const Y: ['damage' | 'residual gap', (c: CellMeasures) => number | null][] = [
  ['damage', (c) => c.damage],
  ['residual gap', (c) => c.residualGap],
];

function row(context: string, dose: number | null, x: string, y: string, points: [number, number][]): TrendRow | null {
  // A correlation needs at least three points and two distinct x values (bottom-3 of 3 layers alone is not a trend).
  if (points.length < 3 || new Set(points.map((p) => p[0])).size < 2) return null;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return { context, dose, x, y, n: points.length, spearman: correlation(xs, ys, 'spearman'), pearson: correlation(xs, ys, 'pearson') };
}

export function trends(contexts: readonly AttributionContext[], measures: readonly CellMeasures[]): TrendRow[] {
  const rows: (TrendRow | null)[] = [];
  for (const context of contexts) {
    const depth = context.depth?.layers;
    for (const dose of context.doses) {
      const sets = [...dose.sets.values()];
      for (const [y, f] of Y) {
        const single = sets
          .filter((s) => s.layers.length === 1)
          .flatMap((s) => [...seedValues(s, f).values()].map((v): [number, number] => [s.layers[0] as number, v]));
        rows.push(row(context.label, dose.dose, 'layer index (single-layer corruption)', y, single));
        if (depth !== undefined) {
          for (const side of ['bottom', 'top'] as const) {
            const edge = sets
              .filter((s) => edgeOf(s.layers, depth)[side])
              .flatMap((s) => [...seedValues(s, f).values()].map((v): [number, number] => [s.layers.length, v]));
            rows.push(row(context.label, dose.dose, `k (${side}-k layers corrupted)`, y, edge));
          }
        }
      }
    }
    if (context.monotone && context.doses.length >= 3) {
      const names = new Set(context.doses.flatMap((d) => [...d.sets.keys()]));
      for (const name of names) {
        const points = context.doses.flatMap((d) =>
          [...seedValues(d.sets.get(name), (c) => c.residualGap).values()].map((v): [number, number] => [d.dose, v]),
        );
        rows.push(row(context.label, null, `${context.doseName} (layers ${name})`, 'residual gap', points));
      }
    }
  }
  const bySetting = new Map<string, [number, number][]>();
  for (const m of measures) {
    if (!m.config.corruption || m.damage === null || m.residualGap === null) continue;
    const key = `${m.config.model.name} / ${m.config.task.name} / ${m.config.protocol}`;
    // push, not a spread: a copy per cell made this quadratic (5 s of a 12,000-cell report, minutes at 100,000).
    const points = bySetting.get(key);
    if (points) points.push([m.damage, m.residualGap]);
    else bySetting.set(key, [[m.damage, m.residualGap]]);
  }
  for (const [key, points] of bySetting) rows.push(row(key, null, 'damage (all corrupted cells)', 'residual gap', points));
  return rows.filter((r): r is TrendRow => r !== null);
}
