/**
 * Synthetic sweep folders at cluster scale, in the exact results format (src/sweep/types.ts), for
 * bench/report-scale.ts and the large-report tests. The spec is a real sweep spec: healbert's own
 * resolveSweepSpec and expandSweep turn it into the cells, so ids, configs, labels and spec.json are what a
 * run would write; only the training is replaced by a known game.
 *
 * The model is bert-base shaped (12 layers x 12 heads). Per seed, with the design's switches on:
 *   - the clean baseline;
 *   - `exact` contexts: every one of the 4,095 non-empty layer subsets (an exact Shapley design), each
 *     context another method or level (reinit, zero, gaussian 0.1/0.3/1 relative, uniform 0.5, sign-flip, scale 0.5);
 *   - dose-response: gaussian relative at 5 levels on each single layer and on all layers (65 cells);
 *   - heads: zero on one head of one layer, for all 144 (layer, head) pairs;
 *   - Monte-Carlo: uniform 0.3 on the layer sets of `permutations` seeded permutations (the cells
 *     `report --plan-shapley --permutations` asks for).
 * Scores: damage(S) = scale x (sum of w[l] over S + gamma when layers 0 and 1 are both in S), residual gap =
 * gapShare x damage, plus seeded noise (sd 0.004). A few dose-response and head cells diverged, failed,
 * are in flight or not started; the Shapley designs are complete (one missing coalition makes a seed's
 * exact estimate unavailable).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coalitionsNeeded, layersOfMask, samplePermutations } from '../src/analysis/shapley.js';
import { seededRandom } from '../src/data/random.js';
import { expandSweep } from '../src/sweep/expand.js';
import { resolveSweepSpec } from '../src/sweep/spec.js';
import type { CellConfig, CellResult, CorruptionEntry } from '../src/sweep/types.js';

export const GAME = {
  layers: 12,
  heads: 12,
  w: [0.06, 0.05, 0.045, 0.04, 0.035, 0.03, 0.025, 0.02, 0.015, 0.012, 0.01, 0.008],
  gamma: 0.02,
  gapShare: 0.3,
  noise: 0.004,
  cleanProbe: 0.82,
  cleanFinal: 0.91,
};

/** Per method and level of the exact contexts: how strongly the game applies. */
const EXACT_CONTEXTS: { entry: Omit<CorruptionEntry, 'targets' | 'vary'>; scale: number }[] = [
  { entry: { method: 'reinit', label: 'reinit' }, scale: 1 },
  { entry: { method: 'zero', label: 'zero' }, scale: 0.9 },
  { entry: { method: 'gaussian', level: 0.1, relative: true, label: 'gaussian 0.1' }, scale: 0.2 },
  { entry: { method: 'gaussian', level: 0.3, relative: true, label: 'gaussian 0.3' }, scale: 0.5 },
  { entry: { method: 'gaussian', level: 1, relative: true, label: 'gaussian 1' }, scale: 0.95 },
  { entry: { method: 'uniform', level: 0.5, label: 'uniform 0.5' }, scale: 0.6 },
  { entry: { method: 'sign-flip', label: 'sign-flip' }, scale: 1.1 },
  { entry: { method: 'scale', level: 0.5, label: 'scale 0.5' }, scale: 0.3 },
];

export interface Design {
  seeds: number;
  /** How many exact-subset contexts (0 to 8). */
  exact: number;
  dose: boolean;
  heads: boolean;
  /** Monte-Carlo permutations (0: none). */
  permutations: number;
  /** Share of dose-response and head cells that diverged, failed, are in flight, not started (default 0.01 each). */
  unfinished?: number;
  /** Write index.jsonl (as the workers keep it); default true. */
  index?: boolean;
  /** Write cells/<id>/result.json too (default true; false: the index alone, as a report's input). */
  resultFiles?: boolean;
}

/** The designs of the bench's table: about 1,000, 10,000, 12,288 (the folder) and 100,000 cells. */
export const DESIGNS: Record<string, Design> = {
  '1k': { seeds: 3, exact: 0, dose: true, heads: true, permutations: 12 },
  '10k': { seeds: 2, exact: 1, dose: true, heads: true, permutations: 32 },
  '12k': { seeds: 3, exact: 1, dose: false, heads: false, permutations: 0 },
  '100k': { seeds: 3, exact: 8, dose: true, heads: true, permutations: 32 },
};

const SUBSETS = Array.from({ length: 2 ** GAME.layers - 1 }, (_, i) => layersOfMask(i + 1));

/** The sweep spec of a design, as a user would write it (model and data paths under `dir`). */
export function designSpec(dir: string, design: Design): Record<string, unknown> {
  const corruptions: CorruptionEntry[] = [];
  for (const { entry } of EXACT_CONTEXTS.slice(0, design.exact))
    corruptions.push({ ...entry, targets: {}, vary: { 'targets.layers': SUBSETS } } as CorruptionEntry);
  if (design.dose)
    corruptions.push({
      method: 'gaussian',
      relative: true,
      label: 'dose',
      targets: {},
      vary: { level: [0.01, 0.03, 0.1, 0.3, 1], 'targets.layers': [...Array.from({ length: GAME.layers }, (_, l) => l), 'all'] },
    } as CorruptionEntry);
  if (design.heads)
    corruptions.push({
      method: 'zero',
      label: 'head',
      targets: {},
      vary: { 'targets.layers': [...Array(GAME.layers).keys()], 'targets.heads': [...Array(GAME.heads).keys()] },
    } as CorruptionEntry);
  if (design.permutations > 0) {
    const masks = coalitionsNeeded(GAME.layers, samplePermutations(GAME.layers, design.permutations, 0));
    corruptions.push({
      method: 'uniform',
      level: 0.3,
      label: 'mc',
      targets: {},
      vary: { 'targets.layers': masks.map(layersOfMask) },
    } as CorruptionEntry);
  }
  return {
    name: `report-scale-${design.seeds}x${design.exact}`,
    models: [{ name: 'bert-base-synthetic', path: join(dir, 'model') }],
    tasks: [{ name: 'sst2', data: join(dir, 'glue') }],
    corruptions,
    seeds: Array.from({ length: design.seeds }, (_, i) => i),
    recipe: { lr: 2e-5, batchSize: 32, epochs: 3, maxLength: 128 },
    device: 'cpu',
    dtype: 'float32',
  };
}

function noise(seed: number, key: string): number {
  let h = (seed + 1) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  const random = seededRandom(h);
  const u = Math.max(random(), 1e-12);
  return GAME.noise * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The game's damage when exactly these layers are corrupted (before the context's scale). */
export function gameDamage(layers: readonly number[]): number {
  let d = 0;
  for (const l of layers) d += GAME.w[l] as number;
  if (layers.includes(0) && layers.includes(1)) d += GAME.gamma;
  return d;
}

/** The true Shapley value of each layer for damage in the exact context of `method` (before noise). */
export function trueShapley(label: string): number[] {
  const scale = EXACT_CONTEXTS.find((c) => c.entry.label === label)?.scale ?? 1;
  return GAME.w.map((w, l) => scale * (w + (l < 2 ? GAME.gamma / 2 : 0)));
}

const layersOf = (config: CellConfig): number[] => {
  const t = config.corruption?.targets.layers;
  if (t === 'all') return [...Array(GAME.layers).keys()];
  return (Array.isArray(t) ? t : [t]).map(Number);
};

/** What the known game gives this cell: probe (before fine-tuning) and final score. */
function scoresOf(config: CellConfig): { probe: number; final: number } {
  const seed = config.seed;
  const cleanProbe = GAME.cleanProbe + noise(seed, 'clean-probe');
  const cleanFinal = GAME.cleanFinal + noise(seed, 'clean-final');
  const c = config.corruption;
  if (!c) return { probe: cleanProbe, final: cleanFinal };
  const layers = layersOf(config);
  let scale: number;
  if (c.label.startsWith('dose')) scale = 1 / (1 + Math.exp(-2 * (Math.log(c.level) - Math.log(0.1))));
  else if (c.label.startsWith('head')) scale = 1 / GAME.heads;
  else if (c.label.startsWith('mc')) scale = 0.4;
  else scale = EXACT_CONTEXTS.find((x) => c.label.startsWith(`${x.entry.label} `))?.scale ?? 1;
  const damage = scale * gameDamage(layers);
  const key = `${c.label}`;
  return {
    probe: cleanProbe - damage + noise(seed, `${key}|d`),
    final: cleanFinal - GAME.gapShare * damage + noise(seed, `${key}|g`),
  };
}

type State = CellResult['status'] | 'running' | 'pending';

/**
 * Cells of the dose-response and heads designs may be unfinished, the Shapley designs are complete: of
 * every 1/share of those cells in id order, one diverged, one failed, one is in flight and one not started.
 */
function stateOf(config: CellConfig, share: number, counter: { n: number }): State {
  const label = config.corruption?.label ?? 'clean';
  if (share <= 0 || (!label.startsWith('dose') && !label.startsWith('head'))) return 'done';
  const i = counter.n++ % Math.max(4, Math.round(1 / share));
  return (['diverged', 'failed', 'running', 'pending'] as const)[i] ?? 'done';
}

const INPUTS = (dir: string) => {
  const files = [
    'model/config.json',
    'model/model.safetensors',
    'model/tokenizer.json',
    'model/vocab.txt',
    'glue/SST-2/train.tsv',
    'glue/SST-2/dev.tsv',
  ];
  return Object.fromEntries(files.map((f) => [join(dir, f), createHash('sha256').update(f).digest('hex')]));
};

function resultOf(
  cell: { id: string; config: CellConfig; baselineId: string | null },
  status: CellResult['status'],
  inputs: Record<string, string>,
): CellResult {
  const { probe, final } = scoresOf(cell.config);
  const epochs = [1, 2, 3].map((epoch) => ({
    epoch,
    step: epoch * 2105,
    trainLoss: 0.45 / epoch + 0.1,
    metrics: { accuracy: final - (0.02 * (3 - epoch)) / 3 },
    seconds: 412.5,
  }));
  const c = cell.config.corruption;
  const layers = c ? layersOf(cell.config) : [];
  const perLayer = c?.targets.heads !== undefined ? 4 * 64 * 768 + 64 * 3 : 7_087_872;
  const result: CellResult = {
    format: 1,
    id: cell.id,
    status,
    config: cell.config,
    baselineId: cell.baselineId,
    primaryMetric: 'accuracy',
    scores: { probe: { accuracy: probe }, epochs, final: { accuracy: final } },
    ...(c
      ? {
          corruption: {
            tensors: 16 * layers.length,
            entries: perLayer * layers.length,
            changed: perLayer * layers.length - 17,
            relativeChange: 1.41,
            nonFinite: 0,
            groups: layers.map((l) => ({ group: `layer ${l}`, layer: l, entries: perLayer, changed: perLayer - 1, relativeChange: 1.41 })),
            ...(c.targets.heads !== undefined
              ? { heads: layers.map((l) => ({ layer: l, head: Number(c.targets.heads), entries: perLayer, changed: perLayer - 1 })) }
              : {}),
          },
        }
      : {}),
    timings: { data: 2.1, load: 1.3, corrupt: 0.04, probe: 95.2, finetune: 1237.6, evaluate: 14.2, total: 1350.4 },
    inputs,
    device: 'cpu',
    versions: { healbert: '0.1.0', libtorch: '1.13.1', node: 'v20.19.0' },
    worker: { host: 'node-017', pid: 41234 },
    startedAt: '2026-01-05T10:00:00.000Z',
    finishedAt: '2026-01-05T10:22:30.400Z',
  };
  if (status === 'diverged') {
    result.scores = { probe: { accuracy: probe }, epochs: epochs.slice(0, 1) };
    result.error = { code: 'DIVERGED', message: 'non-finite training loss (NaN) at step 2411', step: 2411 };
  }
  if (status === 'failed') {
    result.scores = { epochs: [] };
    result.error = { code: 'ERR_TORCH', message: 'out of memory' };
  }
  return result;
}

export interface WrittenFolder {
  cells: number;
  finished: number;
  bytes: number;
}

/**
 * Writes the folder: spec.json, model/config.json, cells/<id>/config.json for every cell, result.json for
 * finished ones, a lock for cells in flight, and index.jsonl. Synchronous writes: this is the fast part.
 */
export function writeSyntheticFolder(dir: string, design: Design): WrittenFolder {
  const spec = resolveSweepSpec(designSpec(dir, design));
  const { cells } = expandSweep(spec);
  mkdirSync(join(dir, 'model'), { recursive: true });
  writeFileSync(
    join(dir, 'model', 'config.json'),
    JSON.stringify({ model_type: 'bert', num_hidden_layers: GAME.layers, num_attention_heads: GAME.heads, hidden_size: 768 }),
  );
  writeFileSync(join(dir, 'spec.json'), `${JSON.stringify(spec, null, 2)}\n`);
  const inputs = INPUTS(dir);
  const share = design.unfinished ?? 0.01;
  const counter = { n: 0 };
  const index: string[] = [];
  let bytes = 0;
  let finished = 0;
  for (const cell of cells) {
    const folder = join(dir, 'cells', cell.id);
    const state = stateOf(cell.config, share, counter);
    if (design.resultFiles !== false || state === 'running' || state === 'pending') {
      mkdirSync(folder, { recursive: true });
      writeFileSync(
        join(folder, 'config.json'),
        `${JSON.stringify({ id: cell.id, baselineId: cell.baselineId, config: cell.config }, null, 2)}\n`,
      );
    }
    if (state === 'running')
      writeFileSync(join(folder, 'lock'), JSON.stringify({ host: 'node-017', pid: 41234, started: '2026-01-05T10:00:00.000Z' }));
    if (state === 'running' || state === 'pending') continue;
    const result = resultOf(cell, state, inputs);
    finished += 1;
    if (design.resultFiles !== false) {
      const text = `${JSON.stringify(result, null, 2)}\n`;
      bytes += text.length;
      writeFileSync(join(folder, 'result.json'), text);
    }
    index.push(JSON.stringify(result));
  }
  if (design.index !== false) writeFileSync(join(dir, 'index.jsonl'), `${index.join('\n')}\n`);
  return { cells: cells.length, finished, bytes };
}
