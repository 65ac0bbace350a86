/**
 * A sweep spec that runs exactly the cells a Shapley estimate needs, built from an existing sweep's
 * spec.json (its models, tasks, recipe and settings) or from names given outright.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import type { CorruptionEntry, SweepSpec } from '../sweep/types.js';
import { modelDepths } from './layers.js';
import { readSweep } from './load.js';
import { type PlannedCell, planShapleyCells } from './plan.js';

/** Options of {@link planShapleySweep}: the corruption to attribute, and the seeds and depth when not the sweep's. */
export interface SweepPlanOptions {
  corruption: CorruptionEntry;
  /** Seeds (default: the sweep's). */
  seeds?: number[];
  /** Depth of the model (default: read from the sweep's model). */
  numLayers?: number;
  permutations?: number;
  permutationSeed?: number;
}

/** Reads a corruption entry (JSON) from a file. */
export async function readCorruptionEntry(path: string): Promise<CorruptionEntry> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new HealbertError('ERR_ARGUMENT', `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text) as CorruptionEntry;
  } catch (error) {
    throw new HealbertError('ERR_ARGUMENT', `${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** The plan for every model and task of a sweep folder, as a sweep spec. */
export async function planShapleySweep(sweepDir: string, options: SweepPlanOptions): Promise<SweepSpec> {
  const sweep = await readSweep(sweepDir);
  const spec = (sweep.spec ?? {}) as Partial<SweepSpec> & Record<string, unknown>;
  const models = [...new Map(sweep.cells.map((c) => [c.config.model.name, c.config.model])).values()];
  const tasks = [...new Map(sweep.cells.map((c) => [c.config.task.name, c.config.task])).values()];
  if (models.length === 0)
    throw new HealbertError('ERR_DATA', `${join(sweepDir, 'cells')}: the sweep has no cells to take models and tasks from`);
  const seeds = options.seeds ?? [...new Set(sweep.cells.map((c) => c.config.seed))].sort((a, b) => a - b);
  const depths = await modelDepths(sweep.cells, sweepDir, options.numLayers);
  const cells: PlannedCell[] = [];
  for (const model of models) {
    const depth = depths.get(model.name);
    if (!depth) throw new HealbertError('ERR_ARGUMENT', `${model.name}: the number of layers is unknown; pass it (--num-layers)`);
    for (const task of tasks) {
      cells.push(
        ...planShapleyCells({
          layers: depth.layers,
          corruption: options.corruption,
          seeds,
          model: model.name,
          task: task.name,
          ...(options.permutations !== undefined ? { permutations: options.permutations } : {}),
          ...(options.permutationSeed !== undefined ? { permutationSeed: options.permutationSeed } : {}),
        }),
      );
    }
  }
  const { corruptions: _corruptions, cells: _cells, seeds: _seeds, ...rest } = spec;
  return {
    ...rest,
    name: `${typeof spec.name === 'string' ? spec.name : 'sweep'}-shapley`,
    models: spec.models ?? models,
    tasks: spec.tasks ?? tasks,
    cells,
  };
}
