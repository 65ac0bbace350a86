/**
 * The cells a Shapley estimate needs, as `cells` entries of a sweep spec (SweepSpec.cells), so a sweep
 * runs exactly those: every non-empty layer subset (exact) or the prefixes of seeded random permutations
 * (Monte-Carlo; the analysis redraws the same permutations from the same count and seed), for each seed,
 * plus each seed's clean baseline (the empty coalition).
 */
import { HealbertError } from '../errors.js';
import type { CorruptionEntry, SweepSpec } from '../sweep/types.js';
import { layerSetName } from './layers.js';
import { coalitionsNeeded, layersOfMask, samplePermutations } from './shapley.js';
import { DEFAULT_SHAPLEY_SEED } from './shapley-analysis.js';

/** One explicit cell of a sweep spec's `cells` list, as a Shapley plan writes it. */
export type PlannedCell = NonNullable<SweepSpec['cells']>[number];

/** Options of {@link planShapleyCells}: the model's depth, the corruption, the seeds, and optionally a Monte-Carlo plan. */
export interface ShapleyPlanOptions {
  /** The model's number of encoder layers (the players). */
  layers: number;
  /** The corruption to attribute; its targets.layers is replaced by each coalition. */
  corruption: CorruptionEntry;
  seeds: number[];
  model?: string;
  task?: string;
  /** Sample this many permutations (Monte-Carlo) instead of enumerating all 2^L - 1 subsets. */
  permutations?: number;
  /** Seed of the sampled permutations (default 0); give the analysis the same. */
  permutationSeed?: number;
}

/** Above this depth the exact plan is refused (2^L cells per seed); sample permutations instead. */
export const MAX_EXACT_LAYERS = 12;

function fail(message: string): never {
  throw new HealbertError('ERR_ARGUMENT', message);
}

/**
 * The cells a Shapley estimate needs: every non-empty layer subset (exact), or the prefixes of seeded permutations
 * (Monte-Carlo), for each seed, with the corruption's layers replaced by each subset.
 */
export function planShapleyCells(options: ShapleyPlanOptions): PlannedCell[] {
  const { layers, corruption, seeds } = options;
  if (!Number.isInteger(layers) || layers < 1 || layers > 30) fail(`layers must be an integer in [1, 30], got ${layers}`);
  if (!corruption || typeof corruption !== 'object' || typeof corruption.method !== 'string')
    fail('corruption must be a corruption spec with a method');
  if (corruption.vary || corruption.zip) fail('a Shapley plan takes one corruption: remove "vary"/"zip" (plan each level separately)');
  if (corruption.targets?.include?.length || corruption.targets?.names?.length) {
    fail('a Shapley plan attributes to encoder layers only: remove targets.include and targets.names');
  }
  if (!seeds.length || seeds.some((s) => !Number.isInteger(s) || s < 0)) fail('seeds must be a non-empty list of non-negative integers');
  const m = options.permutations;
  if (m !== undefined && (!Number.isInteger(m) || m < 1)) fail(`permutations must be a positive integer, got ${m}`);
  if (m === undefined && layers > MAX_EXACT_LAYERS) {
    fail(`the exact Shapley plan for ${layers} layers needs ${2 ** layers - 1} cells per seed; sample permutations instead (e.g. 32)`);
  }
  const masks = coalitionsNeeded(
    layers,
    m === undefined ? undefined : samplePermutations(layers, m, options.permutationSeed ?? DEFAULT_SHAPLEY_SEED),
  );
  const { label, ...entry } = corruption;
  const base = label ?? corruption.method;
  const where = { ...(options.model ? { model: options.model } : {}), ...(options.task ? { task: options.task } : {}) };
  const cells: PlannedCell[] = [];
  for (const seed of seeds) {
    cells.push({ ...where, corruption: null, seed });
    for (const mask of masks) {
      const set = layersOfMask(mask);
      cells.push({
        ...where,
        corruption: {
          ...entry,
          targets: { ...entry.targets, layers: set },
          label: `${base} layers ${layerSetName(set)}`,
        } as CorruptionEntry,
        seed,
      });
    }
  }
  return cells;
}
