/**
 * Damage, recovered score and residual gap for every (context, dose, corrupted layer set): the data of the
 * layer x level heatmaps; its single-layer rows are the per-layer sensitivity profile.
 */
import { type AttributionContext, seedValues } from './contexts.js';
import type { StatusCounts } from './groups.js';
import { edgeOf } from './layers.js';
import { type BootstrapOptions, deriveSeed, type Summary, summarize } from './stats.js';

/** Damage, recovered score and residual gap of one corrupted layer set at one dose: a cell of the layer x level heatmap. */
export interface LayerDoseRow {
  context: string;
  doseName: 'level' | 'fraction';
  dose: number;
  /** Layer-set name: "3", "0-2", "0,3". */
  layers: string;
  layerList: number[];
  /** Number of layers corrupted. */
  k: number;
  /** "bottom", "top" or "all" when the set is an edge of the model; null otherwise. */
  edge: 'bottom' | 'top' | 'all' | null;
  damage: Summary;
  recovered: Summary;
  residualGap: Summary;
  counts: StatusCounts;
}

export function layerDoseRows(contexts: readonly AttributionContext[], options: BootstrapOptions = {}): LayerDoseRow[] {
  const rows: LayerDoseRow[] = [];
  for (const context of contexts) {
    for (const dose of context.doses) {
      const sets = [...dose.sets.values()].sort(
        (a, b) => a.layers.length - b.layers.length || (a.layers[0] ?? -1) - (b.layers[0] ?? -1) || a.name.localeCompare(b.name),
      );
      for (const set of sets) {
        const seed = deriveSeed(options.seed ?? 0, `${context.key}|${dose.dose}|${set.name}`);
        const summary = (f: Parameters<typeof seedValues>[1]) => summarize([...seedValues(set, f).values()], { ...options, seed });
        const depth = context.depth?.layers;
        const e = depth === undefined ? null : edgeOf(set.layers, depth);
        rows.push({
          context: context.label,
          doseName: context.doseName,
          dose: dose.dose,
          layers: set.name,
          layerList: set.layers,
          k: set.layers.length,
          edge: !e ? null : e.bottom && e.top ? 'all' : e.bottom ? 'bottom' : e.top ? 'top' : null,
          damage: summary((c) => c.damage),
          recovered: summary((c) => c.recovered),
          residualGap: summary((c) => c.residualGap),
          counts: set.counts,
        });
      }
    }
  }
  return rows;
}
