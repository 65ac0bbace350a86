/**
 * Shapley values of layers for damage and for residual gap, from the cells a sweep has, and pairwise
 * interactions between layers. v(S) is the quantity measured when exactly the layers S were corrupted
 * (same context and dose), v(empty) = 0. Per seed with every coalition needed: exact (all 2^L - 1
 * non-empty sets), else Monte-Carlo over the seeded permutations a Shapley plan (plan.ts) asked for,
 * with their standard error. Seeds missing any needed coalition are left out and listed.
 */
import { type AttributionContext, seedValues } from './contexts.js';
import { layerSetName } from './layers.js';
import type { CellMeasures } from './quantities.js';
import {
  coalitionsNeeded,
  exactShapley,
  fullMask,
  layersOfMask,
  maskOf,
  permutationShapley,
  samplePermutations,
  shapleyInteraction,
} from './shapley.js';
import { type BootstrapOptions, deriveSeed, mean, type Summary, summarize } from './stats.js';

export const DEFAULT_SHAPLEY_PERMUTATIONS = 32;
export const DEFAULT_SHAPLEY_SEED = 0;

export interface ShapleyOptions {
  /** Permutations of a Monte-Carlo plan (default 32); must match the plan the sweep ran. */
  permutations?: number;
  /** Seed of the plan's permutations (default 0). */
  permutationSeed?: number;
}

/** The quantity layers are attributed: the damage or the residual gap. */
export type Quantity = 'damage' | 'residualGap';

/**
 * Shapley values of the layers for one context, dose and quantity: per layer the mean over seeds, its interval and (Monte-Carlo) standard error.
 */
export interface ShapleyResult {
  context: string;
  doseName: 'level' | 'fraction';
  dose: number;
  quantity: Quantity;
  layers: number;
  estimator: 'exact' | 'monte-carlo' | 'unavailable';
  permutations: number | null;
  /** Seeds with every coalition the estimator needs, and those left out. */
  seeds: number[];
  incompleteSeeds: number[];
  /** Coalitions (layer-set names) missing for the best-covered seed, when unavailable; at most 20. */
  missing: string[];
  missingCount: number;
  /** Per layer: the mean over seeds of its Shapley value, the interval over seeds, and the permutation standard error (Monte-Carlo only). */
  values: { layer: number; value: Summary; standardError: number | null }[];
  /** v(all layers): the Shapley values add up to it. */
  total: number | null;
}

/** The interaction of two layers for one context, dose and quantity (pairwise, or Grabisch's Shapley interaction index). */
export interface InteractionRow {
  context: string;
  doseName: 'level' | 'fraction';
  dose: number;
  quantity: Quantity;
  i: number;
  j: number;
  /** pair: v({i,j}) - v({i}) - v({j}), corrupting both against each alone; shapley-index: Grabisch's index over all coalitions (exact games only). */
  kind: 'pair' | 'shapley-index';
  value: Summary;
}

const QUANTITIES: [Quantity, (c: CellMeasures) => number | null][] = [
  ['damage', (c) => c.damage],
  ['residualGap', (c) => c.residualGap],
];

/** v per seed: mask -> value, the empty coalition 0. */
function gamesBySeed(
  context: AttributionContext,
  doseIndex: number,
  f: (c: CellMeasures) => number | null,
): Map<number, Map<number, number>> {
  const games = new Map<number, Map<number, number>>();
  const dose = context.doses[doseIndex];
  if (!dose) return games;
  for (const set of dose.sets.values()) {
    if (set.layers.length === 0) continue;
    const mask = maskOf(set.layers);
    for (const [seed, v] of seedValues(set, f)) {
      let game = games.get(seed);
      if (!game) {
        game = new Map([[0, 0]]);
        games.set(seed, game);
      }
      game.set(mask, v);
    }
  }
  return games;
}

/** Whether a context and dose look like a Shapley design: some corrupted set is neither one layer nor an edge of the model. */
function hasSubsetDesign(context: AttributionContext, doseIndex: number, depth: number): boolean {
  const sets = [...(context.doses[doseIndex]?.sets.values() ?? [])];
  if (depth <= 2) return sets.length >= 3;
  return sets.some((s) => s.layers.length > 1 && s.layers.length < depth && !s.layers.every((l, i) => l === (s.layers[0] as number) + i));
}

export function shapleyAnalysis(
  contexts: readonly AttributionContext[],
  options: ShapleyOptions & BootstrapOptions = {},
): { results: ShapleyResult[]; interactions: InteractionRow[] } {
  const results: ShapleyResult[] = [];
  const interactions: InteractionRow[] = [];
  const m = options.permutations ?? DEFAULT_SHAPLEY_PERMUTATIONS;
  for (const context of contexts) {
    const depth = context.depth?.layers;
    if (depth === undefined || !context.layersOnly || depth > 20) continue;
    const permutations = samplePermutations(depth, m, options.permutationSeed ?? DEFAULT_SHAPLEY_SEED);
    const exactNeed = coalitionsNeeded(depth);
    const mcNeed = coalitionsNeeded(depth, permutations);
    context.doses.forEach((dose, doseIndex) => {
      for (const [quantity, f] of QUANTITIES) {
        const bootstrap = { ...options, seed: deriveSeed(options.seed ?? 0, `${context.key}|${dose.dose}|${quantity}`) };
        const games = gamesBySeed(context, doseIndex, f);
        const base = { context: context.label, doseName: context.doseName, dose: dose.dose, quantity };
        const seeds = [...games.keys()].sort((a, b) => a - b);
        const covering = (need: number[]) => seeds.filter((s) => need.every((mask) => games.get(s)?.has(mask)));
        // Interactions of pairs in the empty context need only {i}, {j} and {i,j}.
        for (let i = 0; i < depth; i++) {
          for (let j = i + 1; j < depth; j++) {
            const v = seeds.flatMap((s) => {
              const g = games.get(s) as Map<number, number>;
              const [a, b, ab] = [g.get(1 << i), g.get(1 << j), g.get((1 << i) | (1 << j))];
              return a === undefined || b === undefined || ab === undefined ? [] : [ab - a - b];
            });
            if (v.length) interactions.push({ ...base, i, j, kind: 'pair', value: summarize(v, bootstrap) });
          }
        }
        const exactSeeds = covering(exactNeed);
        const mcSeeds = exactSeeds.length ? [] : covering(mcNeed);
        if (!exactSeeds.length && !mcSeeds.length && !hasSubsetDesign(context, doseIndex, depth)) continue;
        const estimator = exactSeeds.length ? 'exact' : mcSeeds.length ? 'monte-carlo' : 'unavailable';
        const used = estimator === 'exact' ? exactSeeds : mcSeeds;
        const result: ShapleyResult = {
          ...base,
          layers: depth,
          estimator,
          permutations: estimator === 'monte-carlo' ? m : null,
          seeds: used,
          incompleteSeeds: seeds.filter((s) => !used.includes(s)),
          missing: [],
          missingCount: 0,
          values: [],
          total: null,
        };
        if (estimator === 'unavailable') {
          // Report against the cheaper plan: the exact set for small depths, the sampled prefixes otherwise.
          const need = depth <= 10 ? exactNeed : mcNeed;
          let best: number[] = need;
          for (const s of seeds) {
            const missing = need.filter((mask) => !games.get(s)?.has(mask));
            if (missing.length < best.length) best = missing;
          }
          result.missingCount = best.length;
          result.missing = best.slice(0, 20).map((mask) => layerSetName(layersOfMask(mask)));
          results.push(result);
          continue;
        }
        const perSeed = used.map((s) => {
          const g = games.get(s) as Map<number, number>;
          const value = (mask: number) => g.get(mask) as number;
          return estimator === 'exact' ? exactShapley(depth, value) : permutationShapley(depth, permutations, value).values;
        });
        let standardErrors: number[] | null = null;
        if (estimator === 'monte-carlo') {
          const meanGame = (mask: number) => mean(used.map((s) => games.get(s)?.get(mask) as number));
          standardErrors = permutationShapley(depth, permutations, meanGame).standardErrors;
        }
        result.values = Array.from({ length: depth }, (_, layer) => ({
          layer,
          value: summarize(
            perSeed.map((phi) => phi[layer] as number),
            bootstrap,
          ),
          standardError: standardErrors ? (standardErrors[layer] as number) : null,
        }));
        result.total = mean(used.map((s) => games.get(s)?.get(fullMask(depth)) as number));
        results.push(result);
        if (estimator === 'exact') {
          for (let i = 0; i < depth; i++) {
            for (let j = i + 1; j < depth; j++) {
              const v = used.map((s) => {
                const g = games.get(s) as Map<number, number>;
                return shapleyInteraction(depth, (mask) => g.get(mask) as number, i, j);
              });
              interactions.push({ ...base, i, j, kind: 'shapley-index', value: summarize(v, bootstrap) });
            }
          }
        }
      }
    });
  }
  return { results, interactions };
}
