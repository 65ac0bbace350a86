/**
 * analyze(resultsDir): every table of a report, as data. Reads the sweep folder, measures each cell
 * against its clean baseline, and summarizes by condition, layer set, dose and layer. Deterministic given
 * options.seed (all bootstrap and permutation draws derive from it).
 */
import { basename, resolve } from 'node:path';
import { HealbertError } from '../errors.js';
import { inputsDigest, mixedInputWarnings } from '../sweep/fingerprint.js';
import { type BottomTopRow, bottomTopRows } from './bottom-top.js';
import { buildContexts } from './contexts.js';
import { DEFINITIONS } from './definitions.js';
import { type DoseResponseSeries, doseResponse } from './dose-response.js';
import { emptyCounts, type GroupSummary, type StatusCounts, summarizeGroups } from './groups.js';
import { type HeadRow, headRows } from './head-table.js';
import { type LayerDoseRow, layerDoseRows } from './layer-table.js';
import { modelDepths } from './layers.js';
import { readSweep } from './load.js';
import { analyzeMeasurements, type MeasurementAnalysis } from './measurements.js';
import { type CellMeasures, measureCells } from './quantities.js';
import {
  DEFAULT_SHAPLEY_PERMUTATIONS,
  DEFAULT_SHAPLEY_SEED,
  type InteractionRow,
  type ShapleyResult,
  shapleyAnalysis,
} from './shapley-analysis.js';
import { type TrendRow, trends } from './trends.js';

export interface AnalyzeOptions {
  /** Seed of every bootstrap and permutation draw (default 0). */
  seed?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Interval coverage (default 0.95). */
  level?: number;
  /** Significance level of the tests and power warnings (default 0.05). */
  alpha?: number;
  /** Below this |damage| the recovery ratio is undefined (default 0.01). */
  minDamage?: number;
  /** The models' number of encoder layers, when their config.json cannot be read. */
  numLayers?: number;
  /** The Monte-Carlo Shapley plan the sweep ran (see planShapleyCells). */
  shapley?: { permutations?: number; seed?: number };
}

export interface Analysis {
  /** The sweep's name (spec.json), else its folder's name. */
  name: string;
  dir: string;
  source: 'index.jsonl' | 'result.json';
  options: Required<Omit<AnalyzeOptions, 'numLayers' | 'shapley'>> & {
    numLayers: number | null;
    shapley: { permutations: number; seed: number };
  };
  counts: StatusCounts;
  depths: { model: string; layers: number | null; source: string }[];
  definitions: Record<string, string>;
  cells: CellMeasures[];
  groups: GroupSummary[];
  layerDose: LayerDoseRow[];
  /** Damage and residual gap per (layer, head), from the conditions that corrupt one head of one layer. */
  heads: HeadRow[];
  bottomTop: BottomTopRow[];
  shapley: ShapleyResult[];
  interactions: InteractionRow[];
  doseResponse: DoseResponseSeries[];
  trends: TrendRow[];
  /** Where healing happens, from the cells' measurements (spec `measure`); empty lists without them. */
  measurements: MeasurementAnalysis;
  warnings: string[];
}

function check(value: number | undefined, name: string, ok: (v: number) => boolean, what: string): void {
  if (value !== undefined && !(typeof value === 'number' && ok(value))) {
    throw new HealbertError('ERR_ARGUMENT', `options.${name} must be ${what}, got ${JSON.stringify(value)}`);
  }
}

function resolveOptions(options: AnalyzeOptions): Analysis['options'] {
  const int = (v: number) => Number.isInteger(v);
  check(options.seed, 'seed', (v) => int(v) && v >= 0, 'a non-negative integer');
  check(options.resamples, 'resamples', (v) => int(v) && v >= 100 && v <= 1_000_000, 'an integer in [100, 1000000]');
  check(options.level, 'level', (v) => v > 0 && v < 1, 'in (0, 1)');
  check(options.alpha, 'alpha', (v) => v > 0 && v < 1, 'in (0, 1)');
  check(options.minDamage, 'minDamage', (v) => v >= 0 && Number.isFinite(v), 'a finite number >= 0');
  check(options.numLayers, 'numLayers', (v) => int(v) && v >= 1, 'a positive integer');
  check(options.shapley?.permutations, 'shapley.permutations', (v) => int(v) && v >= 1, 'a positive integer');
  check(options.shapley?.seed, 'shapley.seed', (v) => int(v) && v >= 0, 'a non-negative integer');
  return {
    seed: options.seed ?? 0,
    resamples: options.resamples ?? 2000,
    level: options.level ?? 0.95,
    alpha: options.alpha ?? 0.05,
    minDamage: options.minDamage ?? 0.01,
    numLayers: options.numLayers ?? null,
    shapley: {
      permutations: options.shapley?.permutations ?? DEFAULT_SHAPLEY_PERMUTATIONS,
      seed: options.shapley?.seed ?? DEFAULT_SHAPLEY_SEED,
    },
  };
}

export async function analyze(resultsDir: string, options: AnalyzeOptions = {}): Promise<Analysis> {
  const resolved = resolveOptions(options);
  const sweep = await readSweep(resultsDir);
  const depths = await modelDepths(sweep.cells, resultsDir, resolved.numLayers ?? undefined);
  const bootstrap = { seed: resolved.seed, resamples: resolved.resamples, level: resolved.level };
  const cells = measureCells(sweep.cells, { minDamage: resolved.minDamage });
  const digests = new Map(sweep.cells.map((c) => [c.id, inputsDigest(c.result?.inputs)]));
  for (const c of cells) c.inputs = digests.get(c.id) ?? null;
  const contexts = buildContexts(cells, depths);
  const groups = summarizeGroups(cells, { ...bootstrap, minDamage: resolved.minDamage });
  const bottomTop = bottomTopRows(contexts, { ...bootstrap, alpha: resolved.alpha });
  const { results: shapley, interactions } = shapleyAnalysis(contexts, {
    ...bootstrap,
    permutations: resolved.shapley.permutations,
    permutationSeed: resolved.shapley.seed,
  });

  const counts = emptyCounts();
  for (const c of cells) counts[c.status]++;
  const warnings: string[] = [];
  if (cells.length === 0) warnings.push('the sweep has no cells yet');
  if (counts.running + counts.pending > 0) {
    warnings.push(
      `the sweep is not finished: ${counts.running} cells in flight and ${counts.pending} not started are missing from every table`,
    );
  }
  if (counts.diverged + counts.failed > 0) {
    warnings.push(
      `${counts.diverged} diverged and ${counts.failed} failed cells are counted but not averaged in (their conditions are marked incomplete)`,
    );
  }
  const orphans = cells.filter((c) => c.status === 'done' && c.recovered === null).length;
  if (orphans > 0) warnings.push(`${orphans} done cells have no quantities (clean baseline missing or not done; see the cells table)`);
  const uncontrolled = cells.filter(
    (c) => c.status === 'done' && c.config.protocol === 'finetuned' && c.config.corruption !== null && c.controlScore === null,
  );
  if (uncontrolled.length > 0) {
    const missing = uncontrolled.filter((c) => c.note?.startsWith('no control cell')).length;
    warnings.push(
      `${uncontrolled.length} finetuned corrupted cells have no done control${missing ? ` (${missing} have none at all: results written before healbert ran controls; run the sweep again and it runs only the missing controls)` : ''}: their residual gap and recovery ratio are left out, not replaced by the gap to the task model before healing (which counts healing's own gain as recovery)`,
    );
  }
  for (const [model, depth] of depths) {
    if (depth === null)
      warnings.push(
        `${model}: the number of layers is unknown (config.json unreadable, no corruption report): pass numLayers for layer attribution`,
      );
    else if (depth.source === 'results')
      warnings.push(
        `${model}: ${depth.layers} layers inferred from the corruption reports (a lower bound); pass numLayers if the model is deeper`,
      );
  }
  const unresolved = contexts.reduce((s, c) => s + c.unresolved, 0);
  if (unresolved > 0)
    warnings.push(
      `${unresolved} corrupted cells name layers that could not be resolved; they are left out of layer attribution and dose-response`,
    );
  warnings.push(...mixedInputWarnings(sweep.cells));
  const fewSeeds = groups.filter((g) => g.seeds.length > 0 && g.seeds.length < 3).length;
  if (fewSeeds > 0) warnings.push(`${fewSeeds} conditions have fewer than 3 seeds: their intervals say little`);
  const noted = sweep.cells.filter((c) => c.result?.measurements?.cka?.notes || c.result?.measurements?.weights?.notes).length;
  if (noted > 0)
    warnings.push(
      `${noted} cells lack a measurement comparison whose reference was missing (their notes in result.json say which); the others are summarised`,
    );
  const underpowered = bottomTop.filter((r) => r.difference.warnings.length > 0).length;
  if (underpowered > 0)
    warnings.push(
      `${underpowered} of ${bottomTop.length} bottom-vs-top comparisons have too few seeds for the difference they show (see their notes)`,
    );

  return {
    name: typeof sweep.spec?.name === 'string' ? sweep.spec.name : basename(resolve(resultsDir)),
    dir: resultsDir,
    source: sweep.source,
    options: resolved,
    counts,
    depths: [...depths].map(([model, d]) => ({ model, layers: d?.layers ?? null, source: d?.source ?? 'unknown' })),
    definitions: DEFINITIONS,
    cells,
    groups,
    layerDose: layerDoseRows(contexts, bootstrap),
    heads: headRows(groups, depths),
    bottomTop,
    shapley,
    interactions,
    doseResponse: doseResponse(contexts, bootstrap),
    trends: trends(contexts, cells),
    measurements: analyzeMeasurements(sweep.cells, groups, depths, bootstrap),
    warnings,
  };
}
