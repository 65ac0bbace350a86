/**
 * Which encoder layers a cell corrupted. Selectors ("bottom:3", "2-5", "top:0.25", lists) are resolved
 * with the corruption module's own resolver against the model's depth, read from the model folder's
 * config.json, else inferred from the corruption reports in the results (a lower bound, said so).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { LayerSelector } from '../corruption/spec.js';
import { layersOf } from '../corruption/targets.js';
import type { CellConfig } from '../sweep/types.js';
import type { SweepCell } from './load.js';

export interface Depth {
  layers: number;
  /** config: the model folder's config.json; results: the deepest layer any corruption report names (a lower bound); option: given. */
  source: 'config' | 'results' | 'option';
}

async function depthFromConfig(path: string, sweepDir: string): Promise<number | null> {
  const candidates = isAbsolute(path) ? [path] : [path, join(sweepDir, path)];
  for (const dir of candidates) {
    const file = join(dir, 'config.json');
    if (!existsSync(file)) continue;
    try {
      const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      const n = config.num_hidden_layers ?? config.n_layers;
      if (typeof n === 'number' && Number.isInteger(n) && n > 0) return n;
    } catch {
      // an unreadable model config only means the depth is inferred instead
    }
  }
  return null;
}

/** The depth of every model in the sweep, by model name. */
export async function modelDepths(cells: readonly SweepCell[], sweepDir: string, override?: number): Promise<Map<string, Depth | null>> {
  const depths = new Map<string, Depth | null>();
  const models = new Map<string, CellConfig['model']>();
  for (const cell of cells) models.set(cell.config.model.name, cell.config.model);
  for (const [name, model] of models) {
    if (override !== undefined) {
      depths.set(name, { layers: override, source: 'option' });
      continue;
    }
    const fromConfig = await depthFromConfig(model.path, sweepDir);
    if (fromConfig !== null) {
      depths.set(name, { layers: fromConfig, source: 'config' });
      continue;
    }
    let deepest = -1;
    for (const cell of cells) {
      if (cell.config.model.name !== name) continue;
      for (const g of cell.result?.corruption?.groups ?? []) deepest = Math.max(deepest, g.layer);
    }
    depths.set(name, deepest >= 0 ? { layers: deepest + 1, source: 'results' } : null);
  }
  return depths;
}

/** The sorted encoder layers a selector names, or null when it cannot be resolved (unknown depth, bad selector). */
export function resolveLayerSet(selector: LayerSelector | LayerSelector[] | undefined, depth: number | null): number[] | null {
  if (selector === undefined) return [];
  const selectors = Array.isArray(selector) ? selector : [selector];
  const set = new Set<number>();
  for (const s of selectors) {
    // Plain indices and ranges need no depth; "all", "bottom:k" and shares do.
    const needsDepth = !(typeof s === 'number' || /^\s*\d+(-\d+)?\s*$/.test(s));
    if (needsDepth && depth === null) return null;
    try {
      for (const l of layersOf(s, depth ?? Number.MAX_SAFE_INTEGER, 'layers')) set.add(l);
    } catch {
      return null;
    }
  }
  return [...set].sort((a, b) => a - b);
}

/** "0-2", "0,3", "none": a short, stable name of a layer set. */
export function layerSetName(layers: readonly number[]): string {
  if (layers.length === 0) return 'none';
  const first = layers[0] as number;
  const contiguous = layers.every((l, i) => l === first + i);
  if (contiguous && layers.length > 2) return `${first}-${layers[layers.length - 1]}`;
  return layers.join(',');
}

/** Whether a layer set is the bottom k or the top k layers of a model of this depth (both, when k = depth). */
export function edgeOf(layers: readonly number[], depth: number): { bottom: boolean; top: boolean; k: number } {
  const k = layers.length;
  const bottom = k > 0 && layers.every((l, i) => l === i);
  const top = k > 0 && layers.every((l, i) => l === depth - k + i);
  return { bottom, top, k };
}
