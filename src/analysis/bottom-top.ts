/**
 * Bottom-k against top-k corruption at equal dose, paired by seed: the paper's comparison (re-initialising
 * the bottom layers hurts more than the top ones). For each k where both sets have done cells, the
 * difference bottom - top of damage and of residual gap, with its interval, tests and effect size.
 */
import { type AttributionContext, seedValues } from './contexts.js';
import { type PairedComparison, pairedComparison } from './hypothesis.js';
import { edgeOf } from './layers.js';
import type { CellMeasures } from './quantities.js';
import { type BootstrapOptions, deriveSeed, type Summary, summarize } from './stats.js';

/** One bottom-k against top-k comparison at one dose: the paired difference of damage or residual gap over seeds. */
export interface BottomTopRow {
  context: string;
  doseName: 'level' | 'fraction';
  dose: number;
  k: number;
  quantity: 'damage' | 'residualGap';
  bottom: Summary;
  top: Summary;
  /** bottom - top over the seeds that have both. */
  difference: PairedComparison;
  /** Seeds that have one of the two but not the other (left out of the comparison). */
  unpairedSeeds: number[];
}

const QUANTITIES: [BottomTopRow['quantity'], (c: CellMeasures) => number | null][] = [
  ['damage', (c) => c.damage],
  ['residualGap', (c) => c.residualGap],
];

export function bottomTopRows(
  contexts: readonly AttributionContext[],
  options: BootstrapOptions & { alpha?: number } = {},
): BottomTopRow[] {
  const rows: BottomTopRow[] = [];
  for (const context of contexts) {
    const depth = context.depth?.layers;
    if (depth === undefined || !context.layersOnly) continue;
    for (const dose of context.doses) {
      const sets = [...dose.sets.values()];
      for (let k = 1; k < depth; k++) {
        const bottom = sets.find((s) => s.layers.length === k && edgeOf(s.layers, depth).bottom);
        const top = sets.find((s) => s.layers.length === k && edgeOf(s.layers, depth).top);
        if (!bottom || !top) continue;
        for (const [quantity, f] of QUANTITIES) {
          const b = seedValues(bottom, f);
          const t = seedValues(top, f);
          const paired = [...b.keys()].filter((s) => t.has(s)).sort((x, y) => x - y);
          const unpairedSeeds = [...new Set([...b.keys(), ...t.keys()])].filter((s) => !paired.includes(s)).sort((x, y) => x - y);
          const seed = deriveSeed(options.seed ?? 0, `${context.key}|${dose.dose}|${k}|${quantity}`);
          rows.push({
            context: context.label,
            doseName: context.doseName,
            dose: dose.dose,
            k,
            quantity,
            bottom: summarize([...b.values()], { ...options, seed }),
            top: summarize([...t.values()], { ...options, seed }),
            difference: pairedComparison(
              paired.map((s) => b.get(s) as number),
              paired.map((s) => t.get(s) as number),
              { ...options, seed },
            ),
            unpairedSeeds,
          });
        }
      }
    }
  }
  return rows;
}
