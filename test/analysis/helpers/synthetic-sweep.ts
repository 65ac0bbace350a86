/**
 * Writes a synthetic sweep folder in the exact results format of src/sweep/types.ts, from a known game:
 * damage(S) = sum of w[i] over the corrupted layers + gamma when layers 0 and 1 are both corrupted, the
 * residual gap = gapShare * damage, plus small seeded noise; gaussian noise on all layers follows a known
 * logistic dose-response. It holds what analysis must handle: several seeds, clean baselines, bottom-k and
 * top-k reinit, every subset of 3 layers (some named twice), single-layer gaussian at two levels, a
 * diverged cell, a failed cell, a cell in flight and one not started.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stableStringify } from '../../../src/analysis/keys.js';
import { seededRandom } from '../../../src/data/random.js';
import type { CellConfig, CellResult, Protocol } from '../../../src/sweep/types.js';

export const TRUTH = {
  layers: 3,
  w: [0.2, 0.12, 0.05],
  gamma: 0.04,
  gapShare: 0.3,
  seeds: [1, 2, 3, 4, 5],
  cleanProbe: 0.8,
  cleanFinal: 0.9,
  /** finetuned protocol: what healing alone adds to the task model (the control's final - beforeCorruption). */
  healGain: 0.02,
  /** gaussian on all layers, before fine-tuning: floor, midpoint (sigma), slope in ln(sigma). */
  before: { floor: 0.5, mid: 0.1, slope: 2 },
  after: { floor: 0.75, mid: 0.3, slope: 2 },
  levels: [0.01, 0.03, 0.1, 0.3, 1],
};

export interface SyntheticOptions {
  protocol?: Protocol;
  /** Standard deviation of the per-cell noise (default 0.004). */
  noise?: number;
  /** Write index.jsonl holding the first `index` finished cells (the rest only as result.json). */
  index?: number;
  /** Leave out the diverged, failed, running and pending cells. */
  clean?: boolean;
  /** finetuned protocol: write the control of every baseline (default true; false: a folder from before controls). */
  controls?: boolean;
}

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function noiseFor(seed: number, key: string, sd: number): number {
  let h = seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return sd * normal(seededRandom(h));
}

const logistic = (x: number, top: number, p: { floor: number; mid: number; slope: number }) =>
  p.floor + (top - p.floor) / (1 + Math.exp(p.slope * (Math.log(x) - Math.log(p.mid))));

export function damageOf(layers: number[]): number {
  let d = 0;
  for (const l of layers) d += TRUTH.w[l] as number;
  if (layers.includes(0) && layers.includes(1)) d += TRUTH.gamma;
  return d;
}

type Corruption = NonNullable<CellConfig['corruption']>;
type Layers = NonNullable<Corruption['targets']['layers']>;

const reinit = (layers: Layers, label: string): Corruption => ({
  method: 'reinit',
  level: 0,
  relative: false,
  init: 'kaiming-sqrt5',
  fraction: 1,
  bits: 'any',
  targets: { layers, kinds: 'all' },
  label,
});

const gaussian = (level: number, layers: Layers, label: string): Corruption => ({
  method: 'gaussian',
  level,
  relative: true,
  init: 'kaiming-sqrt5',
  fraction: 1,
  bits: 'any',
  targets: { layers, kinds: 'all' },
  label,
});

/** The corruptions of the synthetic sweep with the layers each resolves to. */
export function syntheticCorruptions(): { corruption: Corruption; layers: number[] }[] {
  const list: { corruption: Corruption; layers: number[] }[] = [
    { corruption: reinit('bottom:1', 'reinit bottom:1'), layers: [0] },
    { corruption: reinit('bottom:2', 'reinit bottom:2'), layers: [0, 1] },
    { corruption: reinit('top:1', 'reinit top:1'), layers: [2] },
    { corruption: reinit('top:2', 'reinit top:2'), layers: [1, 2] },
    { corruption: reinit('all', 'reinit all'), layers: [0, 1, 2] },
    { corruption: reinit(1, 'reinit layer 1'), layers: [1] },
    { corruption: reinit([0, 2], 'reinit layers 0,2'), layers: [0, 2] },
    // The same experiment as bottom:2 under another name: analysis must put it in the same slot.
    { corruption: reinit('0-1', 'reinit layers 0-1'), layers: [0, 1] },
  ];
  for (const level of TRUTH.levels) list.push({ corruption: gaussian(level, 'all', `gaussian ${level} all`), layers: [0, 1, 2] });
  for (const level of [0.1, 1]) {
    for (const l of [0, 1, 2]) list.push({ corruption: gaussian(level, l, `gaussian ${level} layer ${l}`), layers: [l] });
  }
  return list;
}

/** A cell config of the synthetic sweep (also for tests that build cells by hand). */
export function configOf(protocol: Protocol, modelPath: string, corruption: Corruption | null, seed: number): CellConfig {
  return {
    protocol,
    model: { name: 'tiny-synthetic', path: modelPath },
    task: { name: 'sst2', data: '/nonexistent/glue', subsetSeed: 0, evalSplit: 'dev' },
    corruption,
    seed,
    recipe: { lr: 2e-5, batchSize: 32, epochs: 3, maxLength: 128, warmupRatio: 0, weightDecay: 0, maxGradNorm: 1, evalBatchSize: 64 },
    probe: { epochs: 5, lr: 0.001, batchSize: 64, l2: 0 },
    recovery: { freezeUncorrupted: false, layerDecay: 1, corruptedLrMultiplier: 1, mlmSteps: 0, mlmLr: 5e-5, healEpochs: 3 },
    device: 'cpu',
    dtype: 'float32',
  };
}

const idOf = (config: CellConfig) => createHash('sha256').update(stableStringify(config)).digest('hex').slice(0, 16);

/** The scores a cell with these corrupted layers (and gaussian level, for dose-response) gets. */
function scoresOf(layers: number[], corruption: Corruption | null, seed: number, sd: number) {
  const key = corruption?.label ?? 'clean';
  const cleanProbe = TRUTH.cleanProbe + noiseFor(seed, 'clean-probe', sd);
  const cleanFinal = TRUTH.cleanFinal + noiseFor(seed, 'clean-final', sd);
  if (!corruption) return { probe: cleanProbe, final: cleanFinal, cleanProbe, cleanFinal };
  let probe: number;
  let final: number;
  if (corruption.method === 'gaussian' && layers.length === TRUTH.layers) {
    probe = logistic(corruption.level, cleanProbe, TRUTH.before) + noiseFor(seed, `${key}-p`, sd);
    final = logistic(corruption.level, cleanFinal, TRUTH.after) + noiseFor(seed, `${key}-f`, sd);
  } else {
    const scale = corruption.method === 'gaussian' ? corruption.level : 1;
    // Noise keyed by the layer set: two names of one experiment give the same numbers (common random numbers).
    const d = scale * damageOf(layers) + noiseFor(seed, `${corruption.method}${layers}-d`, sd);
    const g = TRUTH.gapShare * scale * damageOf(layers) + noiseFor(seed, `${corruption.method}${layers}-g`, sd);
    probe = cleanProbe - d;
    final = cleanFinal - g;
  }
  return { probe, final, cleanProbe, cleanFinal };
}

export function writeSyntheticSweep(dir: string, options: SyntheticOptions = {}): { ids: Map<string, string>; results: CellResult[] } {
  const protocol = options.protocol ?? 'pretrained';
  const sd = options.noise ?? 0.004;
  const modelPath = join(dir, 'model');
  mkdirSync(modelPath, { recursive: true });
  writeFileSync(join(modelPath, 'config.json'), JSON.stringify({ model_type: 'bert', num_hidden_layers: TRUTH.layers }));
  // As the sweeps module writes it: the resolved spec, with models and tasks as objects.
  const { model, task } = configOf(protocol, modelPath, null, 0);
  writeFileSync(
    join(dir, 'spec.json'),
    JSON.stringify({ name: 'synthetic', protocol, models: [model], tasks: [task], seeds: TRUTH.seeds }),
  );
  const ids = new Map<string, string>();
  const results: CellResult[] = [];
  const special = (label: string, seed: number) => {
    if (options.clean) return null;
    if (label === 'gaussian 1 all' && seed === 5) return 'diverged';
    if (label === 'reinit top:1' && seed === 4) return 'failed';
    if (label === 'gaussian 0.3 all' && seed === 5) return 'running';
    if (label === 'reinit layers 0,2' && seed === 5) return 'pending';
    return null;
  };
  const withControl = protocol === 'finetuned' && options.controls !== false;
  const CONTROL = 'control' as const;
  for (const seed of TRUTH.seeds) {
    const cleanConfig = configOf(protocol, modelPath, null, seed);
    const cleanId = idOf(cleanConfig);
    const cells: { corruption: Corruption | null | typeof CONTROL; layers: number[] }[] = [
      { corruption: null, layers: [] },
      ...(withControl ? [{ corruption: CONTROL, layers: [] }] : []),
      ...syntheticCorruptions(),
    ];
    for (const cell of cells) {
      const control = cell.corruption === CONTROL;
      const corruption = control ? null : (cell.corruption as Corruption | null);
      const layers = cell.layers;
      const config: CellConfig = corruption
        ? configOf(protocol, modelPath, corruption, seed)
        : control
          ? { ...cleanConfig, control: true }
          : cleanConfig;
      const id = idOf(config);
      ids.set(`${corruption?.label ?? (control ? 'control' : 'clean')}|${seed}`, id);
      const cellDir = join(dir, 'cells', id);
      mkdirSync(cellDir, { recursive: true });
      writeFileSync(join(cellDir, 'config.json'), JSON.stringify(config, null, 2));
      const state = corruption ? special(corruption.label, seed) : null;
      if (state === 'running') writeFileSync(join(cellDir, 'lock'), 'pid 1\n');
      if (state === 'running' || state === 'pending') continue;
      const s = scoresOf(layers, corruption, seed, sd);
      if (control) s.final = s.cleanFinal + TRUTH.healGain;
      const epochs = [1, 2, 3].map((epoch) => ({
        epoch,
        step: epoch * 10,
        trainLoss: 0.7 / epoch,
        metrics: { accuracy: s.final - (0.1 * (3 - epoch)) / 3 },
        seconds: 1,
      }));
      const scores: CellResult['scores'] =
        protocol === 'pretrained'
          ? { probe: { accuracy: s.probe }, epochs, final: { accuracy: s.final } }
          : {
              beforeCorruption: { accuracy: s.cleanFinal },
              ...(control ? {} : { afterCorruption: { accuracy: s.cleanFinal - (s.cleanProbe - s.probe) } }),
              epochs,
              // The healed task model gains healGain on its own; the corrupted cells' finals include it too.
              final: { accuracy: corruption ? s.final + TRUTH.healGain : s.final },
            };
      const result: CellResult = {
        format: 1,
        id,
        status: state ?? 'done',
        config,
        baselineId: corruption || control ? cleanId : null,
        primaryMetric: 'accuracy',
        scores,
        ...(corruption
          ? {
              corruption: {
                tensors: 16 * layers.length,
                entries: 1000 * layers.length,
                changed: 1000 * layers.length,
                relativeChange: 1,
                nonFinite: 0,
                groups: layers.map((l) => ({ group: `layer ${l}`, layer: l, entries: 1000, changed: 1000, relativeChange: 1 })),
              },
            }
          : {}),
        timings: { total: 3 },
        device: 'cpu',
        versions: { healbert: '0.1.0', libtorch: '1.13.1', node: process.versions.node },
        worker: { host: 'synthetic', pid: 1 },
        startedAt: '2025-01-01T00:00:00.000Z',
        finishedAt: '2025-01-01T00:00:03.000Z',
      };
      if (state === 'diverged') {
        const { final: _final, ...partial } = scores;
        result.scores = { ...partial, epochs: epochs.slice(0, 1) };
        result.error = { code: 'ERR_DIVERGED', message: 'loss became NaN', step: 12 };
      }
      if (state === 'failed') {
        result.scores = { epochs: [] };
        result.error = { code: 'ERR_OOM', message: 'out of memory' };
      }
      writeFileSync(join(cellDir, 'result.json'), JSON.stringify(result, null, 2));
      results.push(result);
    }
  }
  if (options.index !== undefined) {
    writeFileSync(
      join(dir, 'index.jsonl'),
      results
        .slice(0, options.index)
        .map((r) => `${JSON.stringify(r)}\n`)
        .join(''),
    );
  }
  return { ids, results };
}

/**
 * A sweep from planned cells (planShapleyCells): reinit of exactly the planned layer sets, scores from
 * damage = game(layers), residual gap = gapShare * game(layers), no noise. For plan -> sweep -> analysis tests.
 */
export function writeGameSweep(
  dir: string,
  depth: number,
  cells: { corruption: Record<string, unknown> | null; seed: number }[],
  game: (layers: number[]) => number,
): void {
  const modelPath = join(dir, 'model');
  mkdirSync(modelPath, { recursive: true });
  writeFileSync(join(modelPath, 'config.json'), JSON.stringify({ model_type: 'bert', num_hidden_layers: depth }));
  for (const cell of cells) {
    const entry = cell.corruption as (Corruption & { targets: { layers: number[] } }) | null;
    const corruption: Corruption | null = entry ? { ...reinit(entry.targets.layers, entry.label), ...entry } : null;
    const config = configOf('pretrained', modelPath, corruption, cell.seed);
    const id = idOf(config);
    const layers = entry ? entry.targets.layers : [];
    const d = game(layers);
    const cleanId = idOf(configOf('pretrained', modelPath, null, cell.seed));
    const result: CellResult = {
      format: 1,
      id,
      status: 'done',
      config,
      baselineId: corruption ? cleanId : null,
      primaryMetric: 'accuracy',
      scores: { probe: { accuracy: TRUTH.cleanProbe - d }, epochs: [], final: { accuracy: TRUTH.cleanFinal - TRUTH.gapShare * d } },
      timings: {},
      device: 'cpu',
      versions: { healbert: '0.1.0', libtorch: '1.13.1', node: process.versions.node },
      worker: { host: 'synthetic', pid: 1 },
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: '2025-01-01T00:00:01.000Z',
    };
    mkdirSync(join(dir, 'cells', id), { recursive: true });
    writeFileSync(join(dir, 'cells', id, 'config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'cells', id, 'result.json'), JSON.stringify(result));
  }
}
