/**
 * How many cells a worker trains together as one fleet (Model.load(dir, { members })).
 *
 * CPU: 1. A fleet batches the members' matrix products, which pays where a step is bound by launches and
 * small kernels (GPUs); on a CPU the arithmetic already dominates and `npm run bench:fleet` measured no
 * gain worth the memory (README). CUDA: as many members as fit in 80% of the device's free memory, by the
 * estimate below, at most 8.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../atomic.js';
import { HealbertError } from '../errors.js';
import { engineConfig, readRawConfig } from '../model/config.js';
import { layoutOf } from '../model/layout.js';
import { loadNative } from '../native/binding.js';
import type { Recipe } from './types.js';

export type FleetSetting = number | 'auto';

/** The most members `auto` chooses: beyond 8 the measured gain per member flattens (README). */
export const AUTO_FLEET_LIMIT = 8;

export interface FleetShape {
  parameters: number;
  hidden: number;
  layers: number;
  heads: number;
}

/**
 * Bytes one member needs to train: float32 weights, gradients and AdamW's two moments (16 bytes per
 * parameter), and the activations autograd keeps for a batch (about 24 hidden-size vectors per token and
 * layer, plus the attention probabilities and their dropout mask).
 */
export function memberBytes(shape: FleetShape, recipe: Pick<Recipe, 'batchSize' | 'maxLength'>): number {
  const tokens = recipe.batchSize * recipe.maxLength;
  const activations = shape.layers * 4 * (tokens * shape.hidden * 24 + 2 * recipe.batchSize * shape.heads * recipe.maxLength ** 2);
  return 16 * shape.parameters + activations;
}

/** The sizes memberBytes() needs, from a model folder's config.json. */
export async function fleetShape(modelPath: string): Promise<FleetShape> {
  const config = engineConfig(await readRawConfig(modelPath), join(modelPath, 'config.json'));
  const parameters = layoutOf(config).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
  return { parameters, hidden: config.hiddenSize, layers: config.numLayers, heads: config.numHeads };
}

/** The fleet size `auto` picks for `freeBytes` of device memory. */
export function fleetForMemory(freeBytes: number, perMember: number): number {
  return Math.max(1, Math.min(AUTO_FLEET_LIMIT, Math.floor((0.8 * freeBytes) / perMember)));
}

/** The fleet size a worker on `device` uses for this setting. */
export function resolveFleet(setting: FleetSetting, device: string, shape: FleetShape, recipe: Recipe): number {
  if (setting !== 'auto') {
    if (!Number.isInteger(setting) || setting < 1)
      throw new HealbertError('ERR_CONFIG', `fleet must be an integer >= 1 or "auto", got ${setting}`);
    return setting;
  }
  if (!device.startsWith('cuda')) return 1;
  const { free } = loadNative().deviceMemory(device);
  return fleetForMemory(free, memberBytes(shape, recipe));
}

/** A results folder's fleets.json: the sizes `auto` chose on CUDA, per model path, for every later run. */
interface FleetsFile {
  format: 1;
  sizes: Record<string, number>;
}

/**
 * The fleet size of each model of a sweep in a results folder. `auto` on CUDA depends on the free memory a
 * worker finds, which differs between GPUs and moments, and the fleets (so the round-off of every result,
 * fleet-plan.ts) depend on the size: the first run records its choice in fleets.json and every later run,
 * worker and shard uses it (the first writer wins a race). A number, or `auto` on a CPU (1), needs no record.
 * `record: false` (--plan) reads the record without writing one.
 */
export async function folderFleetSizes(
  dir: string,
  models: readonly { path: string }[],
  recipe: Recipe,
  setting: FleetSetting,
  device: string,
  options: { record: boolean },
): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (setting !== 'auto' || !device.startsWith('cuda')) {
    for (const m of models) sizes.set(m.path, resolveFleet(setting, device, { parameters: 0, hidden: 0, layers: 0, heads: 0 }, recipe));
    return sizes;
  }
  const path = join(dir, 'fleets.json');
  const read = async (): Promise<Record<string, number>> => {
    try {
      return (JSON.parse(await readFile(path, 'utf8')) as FleetsFile).sizes ?? {};
    } catch {
      return {};
    }
  };
  const recorded = await read();
  const missing = models.filter((m) => !Number.isInteger(recorded[m.path]));
  for (const m of missing) recorded[m.path] = resolveFleet('auto', device, await fleetShape(m.path), recipe);
  if (missing.length > 0 && options.record) {
    const text = `${JSON.stringify({ format: 1, sizes: recorded } satisfies FleetsFile, null, 2)}\n`;
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(path, text, { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another worker recorded first: its sizes win; models it did not know are added.
      const theirs = await read();
      Object.assign(recorded, theirs);
      if (models.some((m) => !Number.isInteger(theirs[m.path])))
        await writeAtomic(path, `${JSON.stringify({ format: 1, sizes: recorded } satisfies FleetsFile, null, 2)}\n`);
    }
  }
  for (const m of models) sizes.set(m.path, recorded[m.path] as number);
  return sizes;
}
