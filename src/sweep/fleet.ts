/**
 * How many cells a worker trains together as one fleet (Model.load(dir, { members })).
 *
 * CPU: 1. A fleet batches the members' matrix products, which pays where a step is bound by launches and
 * small kernels (GPUs); on a CPU the arithmetic already dominates and `npm run bench:fleet` measured no
 * gain worth the memory (README). CUDA: as many members as fit in 80% of the device's free memory, by the
 * estimate below, at most 8.
 */
import { join } from 'node:path';
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
